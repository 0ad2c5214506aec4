package dev.balance.launcher;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real headless Chromium as a child process, driven over the DevTools protocol: open a page,
 * evaluate JavaScript in it, take a screenshot.
 */
final class HeadlessChromium implements AutoCloseable {

    private static final Duration START_LIMIT = Duration.ofSeconds(60);
    private static final Duration CALL_LIMIT = Duration.ofSeconds(30);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Process process;
    private final WebSocket socket;
    private final Map<Integer, CompletableFuture<JsonNode>> calls = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    private HeadlessChromium(Process process, WebSocket.Builder builder, URI page) {
        this.process = process;
        this.socket = builder.buildAsync(page, new Listener()).join();
    }

    static HeadlessChromium start(Path binary, Path workDir, int width, int height) throws IOException {
        Path profile = Files.createDirectories(workDir.resolve("profile"));
        Process process = new ProcessBuilder(List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--remote-debugging-port=0",
                "--window-size=" + width + "," + height, "about:blank"))
                .redirectErrorStream(true).redirectOutput(workDir.resolve("chromium.log").toFile()).start();
        try {
            Path portFile = profile.resolve("DevToolsActivePort");
            await().atMost(START_LIMIT).pollInterval(Duration.ofMillis(200))
                    .until(() -> Files.exists(portFile) && Files.readAllLines(portFile).size() >= 2);
            int port = Integer.parseInt(Files.readAllLines(portFile).get(0).strip());
            HttpResponse<String> targets = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                    .timeout(CALL_LIMIT).GET().build(), HttpResponse.BodyHandlers.ofString());
            URI page = null;
            for (JsonNode target : LiveStack.MAPPER.readTree(targets.body())) {
                if (target.path("type").asText().equals("page")) {
                    page = URI.create(target.path("webSocketDebuggerUrl").asText());
                }
            }
            if (page == null) {
                throw new IllegalStateException("Chromium shows no page target: " + targets.body());
            }
            return new HeadlessChromium(process, HTTP.newWebSocketBuilder(), page);
        } catch (RuntimeException e) {
            process.destroyForcibly();
            throw new IllegalStateException("Chromium did not start; its log:\n"
                    + Files.readString(workDir.resolve("chromium.log")), e);
        } catch (IOException e) {
            process.destroyForcibly();
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException(e);
        }
    }

    void open(String url) {
        call("Page.enable", LiveStack.MAPPER.createObjectNode());
        call("Page.navigate", LiveStack.MAPPER.createObjectNode().put("url", url));
    }

    /** The value of a JavaScript expression evaluated in the page, a promise's once it settles (JSON values only). */
    JsonNode evaluate(String expression) {
        JsonNode result = call("Runtime.evaluate", LiveStack.MAPPER.createObjectNode().put("expression", expression)
                .put("returnByValue", true).put("awaitPromise", true));
        return result.path("result").path("value");
    }

    void screenshot(Path file) throws IOException {
        JsonNode result = call("Page.captureScreenshot", LiveStack.MAPPER.createObjectNode().put("format", "png"));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(result.path("data").asText()));
    }

    private JsonNode call(String method, ObjectNode params) {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        calls.put(id, answer);
        ObjectNode message = LiveStack.MAPPER.createObjectNode().put("id", id).put("method", method);
        message.set("params", params);
        socket.sendText(message.toString(), true).join();
        try {
            JsonNode response = answer.get(CALL_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            if (response.has("error")) {
                throw new IllegalStateException(method + " failed: " + response.get("error"));
            }
            return response.path("result");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException(method + " got no answer within " + CALL_LIMIT, e);
        } finally {
            calls.remove(id);
        }
    }

    /** Collects message fragments and completes the call each answer belongs to; events are ignored. */
    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                try {
                    JsonNode message = LiveStack.MAPPER.readTree(text.toString());
                    CompletableFuture<JsonNode> call = message.has("id") ? calls.get(message.get("id").asInt()) : null;
                    if (call != null) {
                        call.complete(message);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } finally {
                    text.setLength(0);
                }
            }
            webSocket.request(1);
            return null;
        }
    }

    @Override
    public void close() {
        socket.abort();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
