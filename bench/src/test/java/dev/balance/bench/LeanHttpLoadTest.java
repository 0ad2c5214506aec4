package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LeanHttpLoadTest {

    @Test
    void shouldReadAnAnswerWithAContentLengthAndLeaveTheNextOneInTheStream() throws IOException {
        InputStream in = stream("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                + "HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nnop");

        LeanHttpLoad.Answer first = LeanHttpLoad.read(in);
        LeanHttpLoad.Answer second = LeanHttpLoad.read(in);

        assertThat(first.status()).isEqualTo(200);
        assertThat(new String(first.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
        assertThat(second.status()).isEqualTo(404);
        assertThat(new String(second.body(), StandardCharsets.UTF_8)).isEqualTo("nop");
    }

    @Test
    void shouldReadAChunkedAnswer() throws IOException {
        InputStream in = stream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=1\r\n:1}\r\n0\r\n\r\n");

        LeanHttpLoad.Answer answer = LeanHttpLoad.read(in);

        assertThat(new String(answer.body(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
    }

    @Test
    void shouldReportAConnectionClosedMidAnswer() {
        assertThatThrownBy(() -> LeanHttpLoad.read(stream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")))
                .isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> LeanHttpLoad.read(stream("SSH-2.0\r\n"))).isInstanceOf(IOException.class);
    }

    @Test
    void shouldTellWhenAnAnswerIsCompleteByItsLengthOrItsLastChunk() throws IOException {
        String sized = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=1\r\n:1}\r\n0\r\n\r\n";
        for (String answer : new String[] {sized, chunked}) {
            byte[] bytes = answer.getBytes(StandardCharsets.US_ASCII);
            for (int cut = 0; cut < bytes.length; cut++) {
                assertThat(LeanHttpLoad.answerLength(bytes, cut)).as(answer + " cut at " + cut).isEqualTo(-1);
            }
            assertThat(LeanHttpLoad.answerLength(bytes, bytes.length)).isEqualTo(bytes.length);
        }
        byte[] noLength = "HTTP/1.1 200 OK\r\nX: y\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> LeanHttpLoad.answerLength(noLength, noLength.length)).isInstanceOf(IOException.class);
    }

    @Test
    void shouldWritePostsWithTheirBodyLength() {
        String request = new String(LeanHttpLoad.post("h:1", "/p", "{\"é\":1}"), StandardCharsets.UTF_8);

        assertThat(request).startsWith("POST /p HTTP/1.1\r\nHost: h:1\r\n").contains("Content-Length: 8\r\n")
                .endsWith("\r\n\r\n{\"é\":1}");
    }

    private static InputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }
}
