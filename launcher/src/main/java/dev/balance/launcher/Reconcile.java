package dev.balance.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.balance.api.auth.Authenticator;
import dev.balance.api.auth.Signatures;
import dev.balance.sink.mysql.MysqlSinkConfig;
import dev.balance.sink.redis.RedisSinkConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * {@code scripts/reconcile}: compares every balance as the nodes hold it (over HTTP, through the
 * lookup endpoint of any node, which asks the owners), as MySQL holds it (the {@code balances} row,
 * and the journal: its last row per balance and its row count, which must equal the version since
 * every applied change is one row), and as Redis holds it; and, in the journal, that every transfer
 * debit has one credit (or refund) and that each currency's balances add up to what came in minus
 * what went out. The balances compared are those MySQL
 * or Redis know of. Sinks lag behind the nodes, so differences are looked for again until they are
 * gone or {@code RECONCILE_WAIT_MS} has passed; then every difference left is printed and the exit
 * code is 1 (0 when there is none, 2 when a store cannot be read).
 *
 * <p>Environment: NODE_URL (http://127.0.0.1:8080), MYSQL_URL / MYSQL_USER / MYSQL_PASSWORD and
 * REDIS_URL / REDIS_PASSWORD / REDIS_KEY_PREFIX as for the sinks, API_KEY_ID / API_KEY_SECRET (a key
 * of the node's API_KEYS, a read key is enough: the lookups are signed with it), or HMAC_SECRET (the
 * earlier scheme) when the node has no keys, RECONCILE_WAIT_MS (60000), LOOKUP_SIZE_MAX (1000).
 */
public final class Reconcile {

    /** One balance as one place holds it; absent fields are null. */
    record Seen(BigDecimal available, BigDecimal frozen, Long version) {
        boolean sameAs(Seen other) {
            return other != null && version.equals(other.version) && available.compareTo(other.available) == 0
                    && frozen.compareTo(other.frozen) == 0;
        }

        @Override
        public String toString() {
            return "v" + version + " available " + available.toPlainString() + " frozen " + frozen.toPlainString();
        }
    }

    /** The journal's view of one balance: its last row and how many rows there are, lowest version first. */
    record Journal(Seen last, long rows, long firstVersion) {
    }

    /** What one pass found: how many balances were compared, and every difference. */
    public record Report(int balances, List<String> differences) {
        public boolean clean() {
            return differences.isEmpty();
        }
    }

    /** What a comparison reads; the variables of the class comment. */
    public record Settings(URI nodeUrl, MysqlSinkConfig mysql, RedisSinkConfig redis, String apiKeyId,
                           String apiKeySecret, String hmacSecret, long waitMs, int lookupSizeMax) {
        public static Settings fromEnv(Map<String, String> env) {
            return new Settings(URI.create(env.getOrDefault("NODE_URL", "http://127.0.0.1:8080").replaceAll("/+$", "")),
                    MysqlSinkConfig.fromEnv(env), RedisSinkConfig.fromEnv(env), env.get("API_KEY_ID"),
                    env.get("API_KEY_SECRET"), env.get("HMAC_SECRET"),
                    Long.parseLong(env.getOrDefault("RECONCILE_WAIT_MS", "60000")),
                    Integer.parseInt(env.getOrDefault("LOOKUP_SIZE_MAX", "1000")));
        }
    }

    private static final long RETRY_PAUSE_MS = 1_000;

    private final Settings settings;
    private final ObjectMapper mapper = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    public Reconcile(Settings settings) {
        this.settings = settings;
    }

    public static void main(String[] args) {
        Settings settings = Settings.fromEnv(System.getenv());
        PrintStream out = System.out;
        Report report;
        try {
            report = new Reconcile(settings).untilCleanOrTimeout(out);
        } catch (RuntimeException | SQLException | IOException e) {
            System.err.println("reconcile: could not read a store: " + e);
            System.exit(2);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.exit(2);
            return;
        }
        report.differences().forEach(difference -> out.println("DIFF " + difference));
        out.printf("reconcile: %,d balances compared (nodes at %s, MySQL %s, Redis %s): %s%n", report.balances(),
                settings.nodeUrl(), settings.mysql().databaseName(), settings.redis().redisUrl().getHost(),
                report.clean() ? "no difference" : report.differences().size() + " differences");
        System.exit(report.clean() ? 0 : 1);
    }

    /** Passes until one finds no difference, or the wait is over; returns the last pass. */
    Report untilCleanOrTimeout(PrintStream out) throws SQLException, IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.waitMs());
        while (true) {
            Report report = once();
            if (report.clean() || System.nanoTime() > deadline) {
                return report;
            }
            out.printf("reconcile: %d differences, waiting for the sinks (%d ms left)%n", report.differences().size(),
                    TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(RETRY_PAUSE_MS));
        }
    }

    /**
     * One comparison of every balance MySQL or Redis knows, without waiting for the sinks (the
     * benchmark calls it once their lag is zero).
     */
    public Report once() throws SQLException, IOException, InterruptedException {
        Map<String, Seen> mysql = new TreeMap<>();
        Map<String, Journal> journal = new TreeMap<>();
        readMysql(mysql, journal);
        Map<String, Seen> redis = readRedis();
        TreeSet<String> keys = new TreeSet<>(mysql.keySet());
        keys.addAll(redis.keySet());
        keys.addAll(journal.keySet());
        Map<String, Seen> nodes = readNodes(keys);
        List<String> differences = new ArrayList<>();
        for (String key : keys) {
            compare(key, nodes.get(key), mysql.get(key), journal.get(key), redis.get(key), differences);
        }
        differences.addAll(journalLegsAndTotals());
        return new Report(keys.size(), differences);
    }

    /**
     * What balance-by-balance comparison cannot see, because every store would agree: a transfer
     * whose credit never arrived (or arrived twice), and money created or lost. In the journal, every
     * debit of a two-account change has exactly one credit at its destination or one refund back at
     * its source (same transaction id, currency and pair of accounts); and per currency, the sum of
     * all balances equals deposits minus withdrawals minus settlements without a destination.
     */
    private List<String> journalLegsAndTotals() throws SQLException {
        List<String> found = new ArrayList<>();
        MysqlSinkConfig config = settings.mysql();
        try (Connection connection = DriverManager.getConnection(config.mysqlUrl(), config.mysqlUser(),
                config.mysqlPassword()); Statement statement = connection.createStatement()) {
            try (ResultSet rows = statement.executeQuery("SELECT d.account_id, d.transaction_id, d.currency_code,"
                    + " d.counterparty_account_id, d.debits, COALESCE(c.credits, 0), COALESCE(r.refunds, 0) FROM"
                    + " (SELECT account_id, transaction_id, currency_code, counterparty_account_id, COUNT(*) AS debits"
                    + "  FROM balance_journal WHERE leg = 'DEBIT' GROUP BY 1, 2, 3, 4) d"
                    + " LEFT JOIN (SELECT counterparty_account_id AS source, transaction_id, currency_code,"
                    + "  account_id AS destination, COUNT(*) AS credits FROM balance_journal WHERE leg = 'CREDIT'"
                    + "  GROUP BY 1, 2, 3, 4) c ON c.source = d.account_id AND c.transaction_id = d.transaction_id"
                    + "  AND c.currency_code = d.currency_code AND c.destination = d.counterparty_account_id"
                    + " LEFT JOIN (SELECT account_id, transaction_id, currency_code, counterparty_account_id,"
                    + "  COUNT(*) AS refunds FROM balance_journal WHERE leg = 'REFUND' GROUP BY 1, 2, 3, 4) r"
                    + "  ON r.account_id = d.account_id AND r.transaction_id = d.transaction_id"
                    + "  AND r.currency_code = d.currency_code AND r.counterparty_account_id = d.counterparty_account_id"
                    + " WHERE d.debits <> COALESCE(c.credits, 0) + COALESCE(r.refunds, 0)")) {
                while (rows.next()) {
                    found.add(rows.getLong(1) + "/" + rows.getString(3) + " " + rows.getString(2) + ": "
                            + rows.getLong(5) + " debits to " + rows.getLong(4) + " but " + rows.getLong(6)
                            + " credits there and " + rows.getLong(7) + " refunds");
                }
            }
            try (ResultSet rows = statement.executeQuery("SELECT t.currency_code, t.total, COALESCE(f.net, 0) FROM"
                    + " (SELECT currency_code, SUM(available + frozen) AS total FROM balances GROUP BY 1) t"
                    + " LEFT JOIN (SELECT currency_code, SUM(CASE WHEN type = 'DEPOSIT' THEN amount"
                    + "  WHEN type = 'WITHDRAW' THEN -amount WHEN type = 'SETTLE' AND leg = 'NONE' THEN -amount"
                    + "  ELSE 0 END) AS net FROM balance_journal GROUP BY 1) f ON f.currency_code = t.currency_code"
                    + " WHERE t.total <> COALESCE(f.net, 0)")) {
                while (rows.next()) {
                    found.add(rows.getString(1) + ": balances add up to " + rows.getBigDecimal(2).toPlainString()
                            + " but the journal's deposits, withdrawals and settlements to " + rows.getBigDecimal(3)
                            .toPlainString());
                }
            }
        }
        return found;
    }

    private static void compare(String key, Seen node, Seen mysql, Journal journal, Seen redis, List<String> out) {
        if (node == null) {
            out.add(key + ": the nodes did not answer for it");
            return;
        }
        if (node.version() == 0) {
            out.add(key + ": the nodes never applied a change to it, yet a sink holds it");
            return;
        }
        if (!node.sameAs(mysql)) {
            out.add(key + ": MySQL balances " + (mysql == null ? "has no row" : "holds " + mysql) + ", the nodes " + node);
        }
        if (!node.sameAs(redis)) {
            out.add(key + ": Redis " + (redis == null ? "has no field" : "holds " + redis) + ", the nodes " + node);
        }
        if (journal == null) {
            out.add(key + ": the MySQL journal has no row, the nodes " + node);
            return;
        }
        if (!node.sameAs(journal.last())) {
            out.add(key + ": the MySQL journal's last row is " + journal.last() + ", the nodes " + node);
        }
        if (journal.rows() != node.version() || journal.firstVersion() != 1) {
            out.add(key + ": the MySQL journal has " + journal.rows() + " rows from version " + journal.firstVersion()
                    + ", but " + node.version() + " applied changes (versions 1.." + node.version() + ")");
        }
    }

    private void readMysql(Map<String, Seen> balances, Map<String, Journal> journal) throws SQLException {
        MysqlSinkConfig config = settings.mysql();
        try (Connection connection = DriverManager.getConnection(config.mysqlUrl(), config.mysqlUser(),
                config.mysqlPassword()); Statement statement = connection.createStatement()) {
            try (ResultSet rows = statement.executeQuery(
                    "SELECT account_id, currency_code, available, frozen, version FROM balances")) {
                while (rows.next()) {
                    balances.put(key(rows.getLong(1), rows.getString(2)),
                            new Seen(rows.getBigDecimal(3), rows.getBigDecimal(4), rows.getLong(5)));
                }
            }
            try (ResultSet rows = statement.executeQuery("SELECT j.account_id, j.currency_code, j.available_after,"
                    + " j.frozen_after, j.version, s.row_count, s.first_version FROM balance_journal j"
                    + " JOIN (SELECT account_id, currency_code, MAX(version) AS last_version, COUNT(*) AS row_count,"
                    + " MIN(version) AS first_version FROM balance_journal GROUP BY account_id, currency_code) s"
                    + " ON s.account_id = j.account_id AND s.currency_code = j.currency_code"
                    + " AND s.last_version = j.version")) {
                while (rows.next()) {
                    journal.put(key(rows.getLong(1), rows.getString(2)), new Journal(
                            new Seen(rows.getBigDecimal(3), rows.getBigDecimal(4), rows.getLong(5)), rows.getLong(6),
                            rows.getLong(7)));
                }
            }
        }
    }

    /** Every {@code balance:{account}} hash: one field per currency, {@code version|available|frozen|time}. */
    private Map<String, Seen> readRedis() {
        RedisSinkConfig config = settings.redis();
        Map<String, Seen> seen = new TreeMap<>();
        String prefix = config.keyPrefix() + "balance:";
        try (RedisClient redis = dev.balance.sink.redis.RedisClients.create(config, "balance-reconcile")) {
            String cursor = ScanParams.SCAN_POINTER_START;
            ScanParams match = new ScanParams().match(prefix + "*").count(1_000);
            do {
                ScanResult<String> page = redis.scan(cursor, match);
                for (String hash : page.getResult()) {
                    long account;
                    try {
                        account = Long.parseLong(hash.substring(prefix.length()));
                    } catch (NumberFormatException e) {
                        continue;
                    }
                    redis.hgetAll(hash).forEach((currency, value) -> {
                        String[] parts = value.split("\\|");
                        seen.put(key(account, currency), new Seen(new BigDecimal(parts[1]), new BigDecimal(parts[2]),
                                Long.parseLong(parts[0])));
                    });
                }
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        }
        return seen;
    }

    /** The nodes' balances, through lookups of at most LOOKUP_SIZE_MAX items to one node. */
    private Map<String, Seen> readNodes(TreeSet<String> keys) throws IOException, InterruptedException {
        Map<String, Seen> seen = new TreeMap<>();
        List<String> all = new ArrayList<>(keys);
        for (int from = 0; from < all.size(); from += settings.lookupSizeMax()) {
            List<String> chunk = all.subList(from, Math.min(all.size(), from + settings.lookupSizeMax()));
            StringBuilder body = new StringBuilder("[");
            for (String key : chunk) {
                String[] parts = key.split("/");
                body.append(body.length() > 1 ? "," : "").append("{\"account_id\":").append(parts[0])
                        .append(",\"currency_code\":\"").append(parts[1]).append("\"}");
            }
            JsonNode results = lookup(body.append(']').toString()).get("results");
            for (int i = 0; i < chunk.size(); i++) {
                JsonNode balance = results.get(i).get("balance");
                if (results.get(i).get("code").asInt() == 200 && balance != null) {
                    seen.put(chunk.get(i), new Seen(new BigDecimal(balance.get("available").asText()),
                            new BigDecimal(balance.get("frozen").asText()), balance.get("version").asLong()));
                }
            }
        }
        return seen;
    }

    private JsonNode lookup(String body) throws IOException, InterruptedException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(settings.nodeUrl() + "/api/v1/balances/lookup"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        String timestamp = Long.toString(System.currentTimeMillis());
        if (present(settings.apiKeyId()) && present(settings.apiKeySecret())) {
            request.header(Authenticator.KEY_ID_HEADER, settings.apiKeyId())
                    .header(Authenticator.TIMESTAMP_HEADER, timestamp)
                    .header(Authenticator.SIGNATURE_HEADER, Signatures.v2(settings.apiKeySecret(), timestamp, "POST",
                            "/api/v1/balances/lookup", bytes));
        } else if (present(settings.hmacSecret())) {
            request.header(Authenticator.TIMESTAMP_HEADER, timestamp)
                    .header(Authenticator.SIGNATURE_HEADER, Signatures.legacy(settings.hmacSecret(), timestamp, bytes));
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("lookup at " + settings.nodeUrl() + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return mapper.readTree(response.body());
    }

    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }

    private static String key(long account, String currency) {
        return account + "/" + Objects.requireNonNull(currency);
    }
}
