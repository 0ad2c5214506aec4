package dev.balance.api.http;

import dev.balance.api.NodeConfig.TlsFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * HTTPS from PEM files, with the JDK alone: the certificate chain as X.509 PEM, the private key
 * as unencrypted PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}; convert a PKCS#1
 * {@code BEGIN RSA PRIVATE KEY} with {@code openssl pkcs8 -topk8 -nocrypt}).
 */
public final class Tls {

    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
    /** The in-memory key store never leaves the process; its password only satisfies the API. */
    private static final char[] STORE_PASSWORD = "in-memory".toCharArray();

    private Tls() {
    }

    /** A Jetty connector serving HTTPS on host:port with the given files. */
    static Connector connector(Server server, HttpConfiguration http, TlsFiles files, String host, int port) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(keyStore(files));
        ssl.setKeyStorePassword(new String(STORE_PASSWORD));
        // Nodes are reached by address as often as by name; the certificate's names are the client's to check.
        ssl.setSniRequired(false);
        HttpConfiguration https = new HttpConfiguration(http);
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        https.addCustomizer(secure);
        return HttpApi.connector(server, host, port, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(https));
    }

    /** The context a node forwards with: it trusts the certificates of TLS_CA_FILE, or of TLS_CERT_FILE. */
    public static SSLContext clientContext(TlsFiles files) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            List<X509Certificate> certificates = certificates(files.trustFile());
            for (int i = 0; i < certificates.size(); i++) {
                trust.setCertificateEntry("trusted-" + i, certificates.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("TLS: cannot build the trust store from " + files.trustFile() + ": " + e.getMessage(), e);
        }
    }

    static KeyStore keyStore(TlsFiles files) {
        List<X509Certificate> chain = certificates(files.certFile());
        PrivateKey key = privateKey(files.keyFile(), chain.get(0).getPublicKey().getAlgorithm());
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("node", key, STORE_PASSWORD, chain.toArray(Certificate[]::new));
            return store;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("TLS: the key of " + files.keyFile() + " does not go with the certificate of "
                    + files.certFile() + ": " + e.getMessage(), e);
        }
    }

    private static List<X509Certificate> certificates(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toList();
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("TLS: no certificate in " + file);
            }
            return certificates;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS: cannot read certificates from " + file + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file, String algorithm) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("TLS: cannot read the key file " + file + ": " + e.getMessage(), e);
        }
        Matcher matcher = PKCS8.matcher(pem);
        if (!matcher.find()) {
            throw new IllegalArgumentException("TLS: " + file + " holds no unencrypted PKCS#8 key (BEGIN PRIVATE KEY); "
                    + "convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        byte[] der = Base64.getMimeDecoder().decode(matcher.group(1));
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("TLS: the key in " + file + " is not a " + algorithm + " key: " + e.getMessage(), e);
        }
    }
}
