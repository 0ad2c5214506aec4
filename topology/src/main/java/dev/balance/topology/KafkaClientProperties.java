package dev.balance.topology;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * How every Kafka client of the project reaches the brokers beyond their address: TLS and SASL
 * settings, read once at start from the Java properties file named by {@code KAFKA_CLIENT_PROPERTIES}
 * (the format of the Kafka tools' {@code --command-config}) and added to the configuration of
 * each client the project creates: the node's Streams instance, producer and admin clients, the
 * sinks' consumers and dead-letter producer, topic set-up and the benchmark.
 *
 * <p>Only {@code security.protocol}, {@code ssl.*} and {@code sasl.*} are taken. Every other
 * client setting is the project's own (acks, idempotence, isolation level, the processing
 * guarantee, replication...): the design depends on those values, so a file that names any other
 * key is refused at start rather than silently overriding or silently ignored.
 *
 * <p>{@link #toString()} shows the protocol, the mechanism, file locations and store types;
 * every other value (passwords, keys, JAAS configurations) is shown as {@code (hidden)}.
 */
public final class KafkaClientProperties {

    /** The environment variable naming the file. */
    public static final String ENV = "KAFKA_CLIENT_PROPERTIES";

    private static final Set<String> PROTOCOLS = Set.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    /** Keys whose values are shown in logs; every other value may be a secret. */
    private static final Set<String> SHOWN = Set.of("security.protocol", "sasl.mechanism",
            "ssl.endpoint.identification.algorithm", "ssl.protocol", "ssl.enabled.protocols");

    private static final KafkaClientProperties NONE = new KafkaClientProperties(null, Map.of());

    private final Path source;
    private final Map<String, String> entries;

    private KafkaClientProperties(Path source, Map<String, String> entries) {
        this.source = source;
        this.entries = Collections.unmodifiableMap(new TreeMap<>(entries));
    }

    /** No settings: the clients speak PLAINTEXT, the brokers' default. */
    public static KafkaClientProperties none() {
        return NONE;
    }

    /** The file named by {@value #ENV}, or {@link #none()} when the variable is unset or blank. */
    public static KafkaClientProperties fromEnv(Map<String, String> env) {
        String file = env.get(ENV);
        if (file == null || file.isBlank()) {
            return NONE;
        }
        return load(Path.of(file.trim()));
    }

    /** Reads and checks a properties file; fails with a message naming the file and the problem. */
    public static KafkaClientProperties load(Path file) {
        Objects.requireNonNull(file, "file");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(ENV + ": " + file + " does not exist or is not a file");
        }
        Properties read = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            read.load(reader);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(ENV + ": cannot read " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> entries = new HashMap<>();
        for (String key : read.stringPropertyNames()) {
            entries.put(key, read.getProperty(key).trim());
        }
        return of(file, entries);
    }

    /** Checked settings from a map; {@code source} names where they came from in messages (may be null). */
    public static KafkaClientProperties of(Path source, Map<String, String> entries) {
        String where = ENV + (source == null ? "" : " (" + source + ")");
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            String key = entry.getKey();
            if (!allowed(key)) {
                throw new IllegalArgumentException(where + " sets '" + key + "': only security.protocol, ssl.* and "
                        + "sasl.* are taken from it; the project sets every other Kafka client setting itself");
            }
            if (entry.getValue() == null || entry.getValue().isBlank()) {
                throw new IllegalArgumentException(where + " gives '" + key + "' no value");
            }
        }
        String protocol = entries.get("security.protocol");
        if (protocol != null && !PROTOCOLS.contains(protocol.toUpperCase(Locale.ROOT))) {
            throw new IllegalArgumentException(where + ": security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT "
                    + "or SASL_SSL, got '" + protocol + "'");
        }
        return entries.isEmpty() && source == null ? NONE : new KafkaClientProperties(source, entries);
    }

    /** Whether a key may come from the file: connection security only. */
    public static boolean allowed(String key) {
        return key.equals("security.protocol") || key.startsWith("ssl.") || key.startsWith("sasl.");
    }

    /** The settings, by key (values may be secrets: never log them). */
    public Map<String, String> entries() {
        return entries;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The protocol the clients speak, for logs: PLAINTEXT unless the file says otherwise. */
    public String securityProtocol() {
        return entries.getOrDefault("security.protocol", "PLAINTEXT").toUpperCase(Locale.ROOT);
    }

    /**
     * A copy of a client configuration with these settings added. The configuration the project
     * builds never holds a security key; one that does is a programming error, not overridden.
     */
    public Map<String, Object> addTo(Map<String, Object> config) {
        Map<String, Object> merged = new HashMap<>(config);
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            if (merged.putIfAbsent(entry.getKey(), entry.getValue()) != null) {
                throw new IllegalStateException("the client configuration already sets " + entry.getKey());
            }
        }
        return merged;
    }

    /** As {@link #addTo(Map)}, into Properties in place. */
    public Properties addTo(Properties config) {
        for (Map.Entry<String, String> entry : entries.entrySet()) {
            if (config.putIfAbsent(entry.getKey(), entry.getValue()) != null) {
                throw new IllegalStateException("the client configuration already sets " + entry.getKey());
            }
        }
        return config;
    }

    /** The protocol, the mechanism, locations and types; other values (secrets) hidden. */
    @Override
    public String toString() {
        StringJoiner shown = new StringJoiner(", ", "KafkaClientProperties[", "]");
        shown.add("file=" + (source == null ? "none" : source));
        entries.forEach((key, value) -> shown.add(key + "=" + (visible(key) ? value : "(hidden)")));
        return shown.toString();
    }

    private static boolean visible(String key) {
        return SHOWN.contains(key) || key.endsWith(".location") || key.endsWith(".type");
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KafkaClientProperties that && Objects.equals(source, that.source)
                && entries.equals(that.entries);
    }

    @Override
    public int hashCode() {
        return Objects.hash(source, entries);
    }
}
