package dev.balance.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.balance.api.auth.Access;
import dev.balance.api.auth.Authenticator;
import dev.balance.api.auth.Credentials;
import dev.balance.api.http.ApiException;
import dev.balance.api.http.AuthGate;
import io.javalin.Javalin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Access follows what a route declares, not its HTTP method: a POST that only reads (a lookup
 * with a body) can be open to read keys, and a route that declares nothing needs a write key.
 * A real Javalin server with the node's gate, without Kafka.
 */
class RouteAccessTest {

    private static final String READER = "reader-secret-0123456789";
    private static final String WRITER = "writer-secret-0123456789";

    private Javalin app;

    @BeforeEach
    void start() {
        Credentials credentials = Credentials.parse("reader:" + READER + ":read,writer:" + WRITER + ":write", null, null);
        AuthGate gate = new AuthGate(new Authenticator(credentials, 60_000), System::currentTimeMillis, new SimpleMeterRegistry());
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.routes.beforeMatched(gate::check);
            config.routes.post("/lookup", ctx -> ctx.result("looked up"), Access.READ);
            config.routes.post("/undeclared", ctx -> ctx.result("done"));
            config.routes.exception(ApiException.class, (error, ctx) -> ctx.status(error.status()).result(error.error()));
        }).start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        app.stop();
    }

    @Test
    void shouldLetAReadKeyCallAPostThatDeclaresRead() throws Exception {
        HttpResponse<String> answer = post("/lookup", "{\"account_ids\":[1,2]}", "reader", READER);

        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo("looked up");
    }

    @Test
    void shouldTreatARouteThatDeclaresNothingAsAChange() throws Exception {
        assertThat(post("/undeclared", "{}", "reader", READER).statusCode()).isEqualTo(403);
        assertThat(post("/undeclared", "{}", "writer", WRITER).statusCode()).isEqualTo(200);
    }

    private HttpResponse<String> post(String path, String body, String keyId, String secret)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body));
        Map<String, String> headers = Signing.v2(keyId, secret, "POST", path, body);
        headers.forEach(request::header);
        return NodeFixture.HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
