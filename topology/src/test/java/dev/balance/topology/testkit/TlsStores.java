package dev.balance.topology.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A PKCS12 key store holding a self-signed EC certificate for 127.0.0.1 and localhost (made by
 * the JDK's keytool, as an operator would), and a PKCS12 trust store holding only that
 * certificate: what a TLS listener serves and what its clients trust.
 *
 * @param keyStore   the server's key and certificate
 * @param trustStore the certificate alone, for clients
 * @param password   of both stores and of the key
 */
public record TlsStores(Path keyStore, Path trustStore, String password) {

    /** Makes both stores in the folder (created if missing); the password is random per call. */
    public static TlsStores selfSigned(Path dir) {
        try {
            Files.createDirectories(dir);
            String password = "pw-" + UUID.randomUUID();
            Path keyStore = dir.resolve("broker.p12");
            Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "broker", "-keyalg", "EC",
                    "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=localhost",
                    "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                    "-keystore", keyStore.toString(), "-storepass", password, "-keypass", password)
                    .redirectErrorStream(true).start();
            String output;
            try (InputStream in = process.getInputStream()) {
                output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                process.destroyForcibly();
                throw new IllegalStateException("keytool failed: " + output);
            }
            Path trustStore = dir.resolve("ca.p12");
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keyStore)) {
                keys.load(in, password.toCharArray());
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("broker", keys.getCertificate("broker"));
            try (OutputStream out = Files.newOutputStream(trustStore)) {
                trust.store(out, password.toCharArray());
            }
            return new TlsStores(keyStore, trustStore, password);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("could not make the TLS stores", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A client's settings for a TLS listener (the body of a KAFKA_CLIENT_PROPERTIES file), host name checked. */
    public String clientProperties(String securityProtocol) {
        return "security.protocol=" + securityProtocol + "\n"
                + "ssl.truststore.location=" + trustStore.toAbsolutePath().toString().replace("\\", "\\\\") + "\n"
                + "ssl.truststore.type=PKCS12\n"
                + "ssl.truststore.password=" + password + "\n";
    }
}
