package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static dev.balance.api.NodeFixture.get;
import static dev.balance.api.NodeFixture.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.balance.api.NodeFixture.Answer;
import dev.balance.topology.testkit.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A node with API_KEYS and HMAC_SECRET configured, over real HTTP: every route but /health,
 * /ready and /metrics needs a valid signature bound to the method, the path and the body.
 */
class SecurityIT {

    private static final String WRITER_SECRET = "writer-secret-0123456789";
    private static final String READER_SECRET = "reader-secret-0123456789";
    private static final String ROTATING_OLD = "rotating-old-0123456789";
    private static final String ROTATING_NEW = "rotating-new-0123456789";
    private static final String HMAC_SECRET = "legacy-shared-secret";
    private static final String CHANGE = "/api/v1/balance/change";
    private static final String BATCH = "/api/v1/balance/changes";
    private static final String LOOKUP = "/api/v1/balances/lookup";

    private static KafkaBroker broker;
    private static BalanceNode node;
    private static int port;
    private static AuditCapture audit;

    @BeforeAll
    static void start() {
        audit = AuditCapture.start();
        broker = KafkaBroker.start();
        port = NodeFixture.freePort();
        node = NodeFixture.startNode(NodeFixture.env(broker, NodeFixture.newCluster(), port, Map.of(
                "API_KEYS", "writer:" + WRITER_SECRET + ":write,reader:" + READER_SECRET + ":read,"
                        + "rotating:" + ROTATING_OLD + ":write,rotating:" + ROTATING_NEW + ":write",
                "HMAC_SECRET", HMAC_SECRET,
                "SIGNATURE_WINDOW_MS", "60000",
                "DEV_MODE", "true")));
    }

    @AfterAll
    static void stop() {
        node.close();
        broker.close();
    }

    @Test
    void shouldAnswerHealthReadinessAndMetricsWithoutASignature() {
        assertThat(get(port, "/health").status()).isEqualTo(200);
        assertThat(get(port, "/ready").status()).isEqualTo(200);
        Answer metrics = get(port, "/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.raw().body()).contains("balance_auth_refused_total");
    }

    @Test
    void shouldRefuseEveryUnsignedReadAndChangeWithOne401Shape() {
        List<Answer> answers = List.of(
                get(port, "/api/v1/balance/1/BTC"),
                get(port, "/api/v1/balance/1"),
                get(port, "/api/v1/transactions/1/t1"),
                post(port, CHANGE, change("u1", 1, "BTC", "DEPOSIT", "1")),
                post(port, BATCH, "[" + change("u2", 1, "BTC", "DEPOSIT", "1") + "]"),
                post(port, LOOKUP, "[{\"account_id\":1,\"currency_code\":\"BTC\"}]"));

        for (Answer answer : answers) {
            assertThat(answer.status()).isEqualTo(401);
            assertUnauthorized(answer);
        }
        assertThat(balanceVersion(1)).isZero();
    }

    @Test
    void shouldServeReadsSignedByAReadKeyAndByAWriteKey() {
        String path = "/api/v1/balance/2/BTC";

        Answer byReader = get(port, path, Signing.v2("reader", READER_SECRET, "GET", path, ""));
        Answer byWriter = get(port, path, Signing.v2("writer", WRITER_SECRET, "GET", path, ""));

        assertThat(byReader.status()).isEqualTo(200);
        assertThat(byReader.body().at("/balance/version").asLong()).isZero();
        assertThat(byWriter.status()).isEqualTo(200);
    }

    @Test
    void shouldLetAReadKeyLookUpBalancesThoughTheLookupIsAPost() {
        String body = "[{\"account_id\":2,\"currency_code\":\"BTC\"},{\"account_id\":2}]";

        Answer answer = post(port, LOOKUP, body, Signing.v2("reader", READER_SECRET, "POST", LOOKUP, body));
        Answer reusedOnAChange = post(port, CHANGE, body, Signing.v2("reader", READER_SECRET, "POST", LOOKUP, body));

        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body().get("results")).hasSize(2);
        assertThat(answer.body().at("/results/0/code").asInt()).isEqualTo(200);
        assertUnauthorized(reusedOnAChange);
    }

    @Test
    void shouldApplyChangesAndBatchesSignedByAWriteKey() {
        String body = change("w1", 3, "BTC", "DEPOSIT", "1.5");
        String batch = "[" + change("w2", 3, "BTC", "DEPOSIT", "1") + "," + change("w3", 3, "BTC", "WITHDRAW", "0.5") + "]";

        Answer single = post(port, CHANGE, body, Signing.v2("writer", WRITER_SECRET, "POST", CHANGE, body));
        Answer many = post(port, BATCH, batch, Signing.v2("writer", WRITER_SECRET, "POST", BATCH, batch));

        assertThat(single.status()).isEqualTo(200);
        assertThat(many.status()).isEqualTo(200);
        assertThat(many.body().get("success").asBoolean()).isTrue();
        assertThat(balanceVersion(3)).isEqualTo(3);
    }

    @Test
    void shouldRefuseAReadKeyOnAChangeWith403AndChangeNothing() {
        String body = change("r1", 4, "BTC", "DEPOSIT", "1");
        String batch = "[" + body + "]";

        Answer single = post(port, CHANGE, body, Signing.v2("reader", READER_SECRET, "POST", CHANGE, body));
        Answer many = post(port, BATCH, batch, Signing.v2("reader", READER_SECRET, "POST", BATCH, batch));

        assertThat(single.status()).isEqualTo(403);
        assertThat(single.body().get("error").asText()).isEqualTo("FORBIDDEN");
        assertThat(many.status()).isEqualTo(403);
        assertThat(balanceVersion(4)).isZero();
    }

    @Test
    void shouldRefuseASignatureReusedOnAnotherPathOrMethod() {
        String balancePath = "/api/v1/balance/5/BTC";
        Map<String, String> signedForOneRead = Signing.v2("writer", WRITER_SECRET, "GET", balancePath, "");
        String body = change("p1", 5, "BTC", "DEPOSIT", "1");
        Map<String, String> signedForTheBatchRoute = Signing.v2("writer", WRITER_SECRET, "POST", BATCH, body);

        assertThat(get(port, balancePath, signedForOneRead).status()).isEqualTo(200);
        assertUnauthorized(get(port, "/api/v1/balance/6/BTC", signedForOneRead));
        assertUnauthorized(get(port, "/api/v1/balance/5", signedForOneRead));
        assertUnauthorized(get(port, balancePath + "?allow_stale=true", signedForOneRead));
        assertUnauthorized(post(port, CHANGE, body, signedForTheBatchRoute));
        assertThat(balanceVersion(5)).isZero();
    }

    @Test
    void shouldRefuseATamperedBody() {
        String signedBody = change("t1", 7, "BTC", "DEPOSIT", "1");
        String tampered = change("t1", 7, "BTC", "DEPOSIT", "1000");

        assertUnauthorized(post(port, CHANGE, tampered, Signing.v2("writer", WRITER_SECRET, "POST", CHANGE, signedBody)));
        assertUnauthorized(post(port, CHANGE, tampered, Signing.legacy(HMAC_SECRET, signedBody)));
        assertThat(balanceVersion(7)).isZero();
    }

    @Test
    void shouldRefuseTimestampsOutsideTheWindow() {
        String body = change("e1", 8, "BTC", "DEPOSIT", "1");
        long now = System.currentTimeMillis();

        assertUnauthorized(post(port, CHANGE, body, Signing.v2("writer", WRITER_SECRET, now - 120_000, "POST", CHANGE, body)));
        assertUnauthorized(post(port, CHANGE, body, Signing.v2("writer", WRITER_SECRET, now + 120_000, "POST", CHANGE, body)));
        assertThat(post(port, CHANGE, body, Signing.v2("writer", WRITER_SECRET, now - 30_000, "POST", CHANGE, body)).status())
                .isEqualTo(200);
        assertThat(refusals("EXPIRED")).isGreaterThanOrEqualTo(2);
    }

    @Test
    void shouldRefuseAnUnknownKeyAWrongSecretAndMalformedHeaders() {
        String path = "/api/v1/balance/9/BTC";
        Map<String, String> good = Signing.v2("reader", READER_SECRET, "GET", path, "");

        assertUnauthorized(get(port, path, Signing.v2("nobody", READER_SECRET, "GET", path, "")));
        assertUnauthorized(get(port, path, Signing.v2("reader", WRITER_SECRET, "GET", path, "")));
        assertUnauthorized(get(port, path, with(good, "X-Timestamp", "yesterday")));
        assertUnauthorized(get(port, path, with(good, "X-Signature", "not-hex")));
        assertUnauthorized(get(port, path, without(good, "X-Signature")));
        assertUnauthorized(get(port, path, without(good, "X-Timestamp")));
        assertThat(get(port, path, with(good, "X-Signature", good.get("X-Signature").toUpperCase())).status())
                .isEqualTo(200);
    }

    @Test
    void shouldAcceptBothSecretsOfARotatedKey() {
        String path = "/api/v1/balance/10";

        assertThat(get(port, path, Signing.v2("rotating", ROTATING_OLD, "GET", path, "")).status()).isEqualTo(200);
        assertThat(get(port, path, Signing.v2("rotating", ROTATING_NEW, "GET", path, "")).status()).isEqualTo(200);
        String body = change("rot1", 10, "BTC", "DEPOSIT", "1");
        assertThat(post(port, CHANGE, body, Signing.v2("rotating", ROTATING_NEW, "POST", CHANGE, body)).status())
                .isEqualTo(200);
    }

    @Test
    void shouldAcceptTheEarlierDesignsSignatureOnAPostAndAGetAsAWriteKey() {
        String body = change("l1", 11, "BTC", "DEPOSIT", "2");
        String batch = "[" + change("l2", 11, "BTC", "DEPOSIT", "1") + "]";

        Answer change = post(port, CHANGE, body, Signing.legacy(HMAC_SECRET, body));
        Answer many = post(port, BATCH, batch, Signing.legacy(HMAC_SECRET, batch));
        Answer read = get(port, "/api/v1/balance/11/BTC", Signing.legacy(HMAC_SECRET, ""));

        assertThat(change.status()).isEqualTo(200);
        assertThat(many.status()).isEqualTo(200);
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.body().at("/balance/available").asText()).isEqualTo("3.00000000");
        assertUnauthorized(post(port, CHANGE, body, Signing.legacy("another-secret", body)));
    }

    @Test
    void shouldNotLetAClientKeySignAsANode() {
        String body = change("n1", 12, "BTC", "DEPOSIT", "1");
        Map<String, String> headers = new HashMap<>(Signing.v2("writer", WRITER_SECRET, "POST", CHANGE, body));
        headers.put("X-Key-Id", "@node");
        headers.put("X-Balance-Forwarded", "127.0.0.1:1");

        assertUnauthorized(post(port, CHANGE, body, headers));
        assertThat(balanceVersion(12)).isZero();
    }

    @Test
    void shouldAuditTheKeyIdAndTransactionIdOfEveryChangeWithoutSecrets() {
        String body = change("audit-1", 13, "BTC", "DEPOSIT", "1");
        String batch = "[" + change("audit-2", 13, "BTC", "DEPOSIT", "1") + "," + change("audit-3", 14, "ETH", "DEPOSIT", "1") + "]";
        Map<String, String> signed = Signing.v2("writer", WRITER_SECRET, "POST", CHANGE, body);

        assertThat(post(port, CHANGE, body, signed).status()).isEqualTo(200);
        assertThat(post(port, BATCH, batch, Signing.v2("rotating", ROTATING_OLD, "POST", BATCH, batch)).status()).isEqualTo(200);
        String legacyBody = change("audit-4", 13, "BTC", "DEPOSIT", "1");
        assertThat(post(port, CHANGE, legacyBody, Signing.legacy(HMAC_SECRET, legacyBody)).status()).isEqualTo(200);

        String funding = change("audit-usdt", 13, "USDT", "DEPOSIT", "1");
        assertThat(post(port, CHANGE, funding, Signing.v2("writer", WRITER_SECRET, "POST", CHANGE, funding)).status())
                .isEqualTo(200);
        String transfer = TransferIT.transfer("audit-5", 13, 16, "TRANSFER", "0.5");
        assertThat(post(port, CHANGE, transfer, Signing.v2("writer", WRITER_SECRET, "POST", CHANGE, transfer)).status())
                .isEqualTo(200);

        assertThat(audit.text()).containsPattern("key_id=writer transaction_id=audit-1 account_id=13 ")
                .containsPattern("key_id=rotating transaction_id=audit-2 account_id=13 ")
                .containsPattern("key_id=rotating transaction_id=audit-3 account_id=14 ")
                .containsPattern("key_id=@legacy transaction_id=audit-4 account_id=13 ")
                .containsPattern("key_id=writer transaction_id=audit-5 account_id=13 type=TRANSFER .* to_account_id=16 route=local")
                .doesNotContain(WRITER_SECRET, ROTATING_OLD, HMAC_SECRET, signed.get("X-Signature"));
    }

    @Test
    void shouldAcceptRequestsSignedByTheSignScriptOfTheReadme() throws Exception {
        String body = change("script-1", 15, "BTC", "DEPOSIT", "1");

        Answer change = post(port, CHANGE, body, signByScript("writer", WRITER_SECRET, "POST", CHANGE, body));
        Answer read = get(port, "/api/v1/balance/15/BTC?allow_stale=true",
                signByScript("reader", READER_SECRET, "GET", "/api/v1/balance/15/BTC?allow_stale=true", ""));

        assertThat(change.status()).as(change.raw().body()).isEqualTo(200);
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.body().at("/balance/version").asLong()).isEqualTo(1);
    }

    /** Runs scripts/sign as a curl user would and turns its "-H Name:value" words into headers. */
    private static Map<String, String> signByScript(String keyId, String secret, String method, String path, String body)
            throws Exception {
        Path script = Path.of("..", "scripts", "sign").toAbsolutePath().normalize();
        ProcessBuilder builder = new ProcessBuilder("bash", script.toString(), method, path, body).redirectErrorStream(true);
        builder.environment().put("API_KEY_ID", keyId);
        builder.environment().put("API_KEY_SECRET", secret);
        Process process = builder.start();
        String output;
        try (var in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        Map<String, String> headers = new HashMap<>();
        String[] words = output.split("\\s+");
        for (int i = 0; i + 1 < words.length; i += 2) {
            assertThat(words[i]).isEqualTo("-H");
            String[] header = words[i + 1].split(":", 2);
            headers.put(header[0], header[1]);
        }
        assertThat(headers).containsOnlyKeys("X-Key-Id", "X-Timestamp", "X-Signature");
        return headers;
    }

    private static void assertUnauthorized(Answer answer) {
        assertThat(answer.status()).isEqualTo(401);
        JsonNode body = answer.body();
        assertThat(body.get("success").asBoolean()).isFalse();
        assertThat(body.get("error").asText()).isEqualTo("UNAUTHORIZED");
        assertThat(body.get("error_message").asText()).isEqualTo("missing or invalid request signature");
        assertThat(body.size()).isEqualTo(3);
    }

    /** The node's count of 401s for one reason, from its Prometheus exposition. */
    private static double refusals(String reason) {
        String prefix = "balance_auth_refused_total{reason=\"" + reason + "\"} ";
        return get(port, "/metrics").raw().body().lines().filter(line -> line.startsWith(prefix))
                .mapToDouble(line -> Double.parseDouble(line.substring(prefix.length()))).findFirst().orElse(-1);
    }

    private static long balanceVersion(long account) {
        String path = "/api/v1/balance/" + account + "/BTC";
        Answer answer = get(port, path, Signing.v2("reader", READER_SECRET, "GET", path, ""));
        assertThat(answer.status()).isEqualTo(200);
        return answer.body().at("/balance/version").asLong();
    }

    private static Map<String, String> with(Map<String, String> headers, String name, String value) {
        Map<String, String> changed = new HashMap<>(headers);
        changed.put(name, value);
        return changed;
    }

    private static Map<String, String> without(Map<String, String> headers, String name) {
        Map<String, String> changed = new HashMap<>(headers);
        changed.remove(name);
        return changed;
    }
}
