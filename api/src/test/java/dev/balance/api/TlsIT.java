package dev.balance.api;

import static dev.balance.api.NodeFixture.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.balance.topology.testkit.KafkaBroker;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two nodes serving HTTPS from PEM files (a self-signed certificate made by the JDK's keytool),
 * with keys and an explicit NODE_SECRET configured: clients reach them over TLS, they forward to
 * each other over TLS, and /metrics is on a plain port of its own.
 */
class TlsIT {

    private static final String WRITER = "writer-secret-0123456789";
    private static final String CHANGE = "/api/v1/balance/change";

    @TempDir
    static Path dir;
    private static KafkaBroker broker;
    private static BalanceNode a;
    private static BalanceNode b;
    private static int portA;
    private static int portB;
    private static int metricsPortA;
    private static HttpClient trusting;

    @BeforeAll
    static void start() throws Exception {
        Path keyStore = selfSignedCertificate(dir);
        Path certFile = dir.resolve("node.crt");
        Path keyFile = dir.resolve("node.key");
        writePem(keyStore, certFile, keyFile);
        trusting = HttpClient.newBuilder().sslContext(trustOnly(keyStore)).connectTimeout(Duration.ofSeconds(5)).build();

        broker = KafkaBroker.start();
        String cluster = NodeFixture.newCluster();
        portA = NodeFixture.freePort();
        portB = NodeFixture.freePort();
        metricsPortA = NodeFixture.freePort();
        // The node key is configured explicitly here (SecureClusterIT covers keys derived from write secrets).
        Map<String, String> tls = Map.of("DEV_MODE", "false", "API_KEYS", "writer:" + WRITER + ":write",
                "NODE_SECRET", "node-to-node-secret-0123456789",
                "TLS_CERT_FILE", certFile.toString(), "TLS_KEY_FILE", keyFile.toString());
        Map<String, String> envA = new HashMap<>(tls);
        envA.put("METRICS_PORT", Integer.toString(metricsPortA));
        a = NodeFixture.startNode(NodeFixture.env(broker, cluster, portA, envA));
        b = NodeFixture.startNode(NodeFixture.env(broker, cluster, portB, tls));
        NodeFixture.awaitSettled(a, portA, b, portB, TlsIT::readStatus);
    }

    private static int readStatus(int port, long account) throws IOException, InterruptedException {
        String path = "/api/v1/balance/" + account;
        return send(trusting, "https", port, "GET", path, "", Signing.v2("writer", WRITER, "GET", path, "")).statusCode();
    }

    @AfterAll
    static void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void shouldServeSignedRequestsOverHttpsAndForwardOverHttps() throws Exception {
        long ownedByB = MultiNodeIT.accountOwnedBy(a, portB);
        String body = change("tls-1", ownedByB, "BTC", "DEPOSIT", "1.25");
        String path = "/api/v1/balance/" + ownedByB + "/BTC";

        HttpResponse<String> write = send(trusting, "https", portA, "POST", CHANGE, body,
                Signing.v2("writer", WRITER, "POST", CHANGE, body));
        HttpResponse<String> read = send(trusting, "https", portA, "GET", path, "",
                Signing.v2("writer", WRITER, "GET", path, ""));

        assertThat(write.statusCode()).as(write.body()).isEqualTo(200);
        assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
        JsonNode balance = NodeFixture.MAPPER.readTree(read.body());
        assertThat(balance.at("/balance/available").asText()).isEqualTo("1.25000000");
        assertThat(b.counters().count(dev.balance.topology.model.Result.APPLIED)).isEqualTo(1);
    }

    @Test
    void shouldNotServePlainHttpOnTheTlsPortNorTalkToAClientThatDistrustsTheCertificate() throws InterruptedException {
        HttpClient defaults = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        assertThatThrownBy(() -> send(defaults, "https", portA, "GET", "/health", "", Map.of()))
                .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
        int plainStatus;
        try {
            plainStatus = send(defaults, "http", portA, "GET", "/health", "", Map.of()).statusCode();
        } catch (IOException e) {
            plainStatus = -1;
        }
        assertThat(plainStatus).isNotEqualTo(200);
    }

    @Test
    void shouldServeMetricsOnTheirOwnPortOnly() throws Exception {
        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        HttpResponse<String> metrics = send(plain, "http", metricsPortA, "GET", "/metrics", "", Map.of());
        HttpResponse<String> onApiPort = send(trusting, "https", portA, "GET", "/metrics", "", Map.of());
        HttpResponse<String> health = send(trusting, "https", portA, "GET", "/health", "", Map.of());

        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("balance_node_ready");
        assertThat(onApiPort.statusCode()).isEqualTo(404);
        assertThat(health.statusCode()).isEqualTo(200);
    }

    private static HttpResponse<String> send(HttpClient client, String scheme, int port, String method, String path,
                                             String body, Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A PKCS12 key store with a self-signed EC certificate for 127.0.0.1 and localhost, made by keytool. */
    private static Path selfSignedCertificate(Path dir) throws Exception {
        Path store = dir.resolve("node.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "node", "-keyalg", "EC",
                "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=localhost",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String output;
        try (InputStream in = process.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("keytool finished").isTrue();
        assertThat(process.exitValue()).as("keytool: " + output).isZero();
        return store;
    }

    /** The certificate as X.509 PEM and its key as PKCS#8 PEM, the formats TLS_CERT_FILE and TLS_KEY_FILE take. */
    private static void writePem(Path store, Path certFile, Path keyFile) throws Exception {
        KeyStore keyStore = load(store);
        Certificate certificate = keyStore.getCertificate("node");
        byte[] key = keyStore.getKey("node", "changeit".toCharArray()).getEncoded();
        Base64.Encoder pem = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Files.writeString(certFile, "-----BEGIN CERTIFICATE-----\n" + pem.encodeToString(certificate.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\n" + pem.encodeToString(key) + "\n-----END PRIVATE KEY-----\n");
    }

    private static SSLContext trustOnly(Path store) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("node", load(store).getCertificate("node"));
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }

    private static KeyStore load(Path store) throws Exception {
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keyStore.load(in, "changeit".toCharArray());
        }
        return keyStore;
    }
}
