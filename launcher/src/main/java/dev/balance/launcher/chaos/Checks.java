package dev.balance.launcher.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import dev.balance.sink.redis.RedisClients;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/** The checks after quiescence, each printed with PASS or FAIL and its figures. */
final class Checks {

    /** A verdict as the service keeps it (the transaction resource), with the balance right after it. */
    record Kept(String status, String result, String type, BigDecimal amount, long version, BigDecimal available,
                BigDecimal frozen) {
    }

    /** One applied change in a balance's chain. */
    record Link(String txId, String kind, BigDecimal amount, BigDecimal available, BigDecimal frozen) {
    }

    /** A balance: available, frozen, version. */
    record State(BigDecimal available, BigDecimal frozen, long version) {
        static final State ZERO = new State(BigDecimal.ZERO, BigDecimal.ZERO, 0);

        boolean same(State other) {
            return other != null && version == other.version && available.compareTo(other.available) == 0
                    && frozen.compareTo(other.frozen) == 0;
        }

        @Override
        public String toString() {
            return "v" + version + " available " + available.toPlainString() + " frozen " + frozen.toPlainString();
        }
    }

    final Map<String, Map<String, Object>> results = new LinkedHashMap<>();
    private final Chaos.Options options;
    private final Cluster cluster;
    private final Load load;
    private final PrintStream out;
    private final ObjectMapper mapper = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final Map<String, Kept> kept = new ConcurrentHashMap<>();
    private final Map<String, Kept> credits = new ConcurrentHashMap<>();
    private final Map<String, TreeMap<Long, Link>> chains = new TreeMap<>();
    private final Map<String, State> model = new TreeMap<>();
    private final Map<String, BigDecimal> netInflow = new TreeMap<>();

    Checks(Chaos.Options options, Cluster cluster, Load load, PrintStream out) {
        this.options = options;
        this.cluster = cluster;
        this.load = load;
        this.out = out;
    }

    boolean runAll() throws Exception {
        fetchKept();
        plant();
        boolean passed = verdicts();
        passed &= chains();
        passed &= stores();
        passed &= reconcile();
        passed &= answers();
        return passed;
    }

    // ---------------------------------------------------------------- reading the kept verdicts

    private void fetchKept() throws Exception {
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Load.Tx tx : load.txs) {
                futures.add(pool.submit(() -> {
                    boolean mustExist = tx.told != null || tx.got202;
                    JsonNode body = transaction(tx.account, tx.id, mustExist ? 60_000 : 3_000, mustExist);
                    if (body == null) {
                        return null;
                    }
                    Kept verdict = keptOf(body.path("transaction"));
                    kept.put(tx.id, verdict);
                    if (tx.type.equals("TRANSFER") && "APPLIED".equals(verdict.status())) {
                        long deadline = System.currentTimeMillis() + 60_000;
                        while (System.currentTimeMillis() < deadline) {
                            JsonNode destination = transaction(tx.to, tx.id, 30_000, true);
                            if (destination != null) {
                                for (JsonNode leg : destination.path("legs")) {
                                    if ("CREDIT".equals(leg.path("leg").asText())
                                            && leg.path("from_account_id").asLong() == tx.account) {
                                        credits.put(tx.id, keptOf(leg));
                                        return null;
                                    }
                                }
                            }
                            Thread.sleep(500);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        } finally {
            pool.shutdownNow();
        }
        out.printf("chaos: read %,d kept verdicts and %,d credit legs in %d s%n", kept.size(), credits.size(),
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
    }

    private static Kept keptOf(JsonNode node) {
        JsonNode balance = node.path("balance");
        return new Kept(node.path("status").asText(), node.path("result").asText(), node.path("type").asText(),
                new BigDecimal(node.path("amount").asText("0")), balance.path("version").asLong(-1),
                new BigDecimal(balance.path("available").asText("0")), new BigDecimal(balance.path("frozen").asText("0")));
    }

    /**
     * GET of a transaction from random nodes, retried on 503 and errors; null on 404 once the wait is
     * over, or at the first 404 when the change need not exist (never told, never recorded: after
     * quiescence a 404 is final, and waiting on each of thousands of them took hours).
     */
    private JsonNode transaction(long account, String id, long waitMs, boolean mustExist) throws InterruptedException {
        long deadline = System.currentTimeMillis() + waitMs;
        while (true) {
            URI node = cluster.anyNodeUrl();
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(node.resolve("/api/v1/transactions/"
                        + account + "/" + id)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return mapper.readTree(response.body());
                }
                if (response.statusCode() == 404 && !mustExist) {
                    return null;
                }
            } catch (IOException e) {
                // retried
            }
            if (System.currentTimeMillis() > deadline) {
                return null;
            }
            Thread.sleep(300);
        }
    }

    /** CHAOS_PLANT: a fault planted on purpose, to show the checks catch it. */
    private void plant() throws SQLException {
        if (options.plant() == null) {
            return;
        }
        for (String plant : options.plant().split(",")) {
            switch (plant.trim()) {
                case "verdict" -> {
                    for (Load.Tx tx : load.txs) {
                        if ("APPLIED".equals(tx.told)) {
                            tx.told = "REJECTED";
                            out.println("chaos: PLANTED a flipped verdict: the client's record of " + tx.id + " now says REJECTED");
                            break;
                        }
                    }
                }
                case "mysql" -> {
                    waitForSinkRows();
                    try (Connection connection = mysql(); Statement statement = connection.createStatement()) {
                        int rows = statement.executeUpdate("UPDATE balances SET available = available + 1 ORDER BY account_id,"
                                + " currency_code LIMIT 1");
                        out.println("chaos: PLANTED +1 on the available of one MySQL balance (" + rows + " row)");
                    }
                }
                default -> throw new IllegalArgumentException("CHAOS_PLANT is a list of verdict and mysql");
            }
        }
    }

    private void waitForSinkRows() throws SQLException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            try (Connection connection = mysql(); Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM balances")) {
                if (rows.next() && rows.getLong(1) > 0) {
                    return;
                }
            } catch (SQLException e) {
                // not created yet
            }
            try {
                Thread.sleep(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ---------------------------------------------------------------- 1. verdicts

    private boolean verdicts() {
        List<String> problems = new ArrayList<>();
        long told = 0;
        long untold = 0;
        long untoldDecided = 0;
        long untoldUnknown = 0;
        for (Load.Tx tx : load.txs) {
            Kept verdict = kept.get(tx.id);
            if (tx.told == null) {
                untold++;
                if (verdict != null) {
                    untoldDecided++;
                } else {
                    untoldUnknown++;
                    if (tx.got202) {
                        problems.add(tx.id + ": answered 202 (recorded) but the service keeps no verdict");
                    }
                }
                continue;
            }
            told++;
            if (verdict == null) {
                problems.add(tx.id + " (" + tx.account + "/" + tx.currency + "): told " + tx.told + ", the service keeps none (lost)");
            } else if (!verdict.status().equals(tx.told)) {
                problems.add(tx.id + " (" + tx.account + "/" + tx.currency + "): told " + tx.told + ", the service keeps "
                        + verdict.status() + " (flipped)");
            } else if (tx.toldVersion != verdict.version() || tx.toldAvailable == null
                    || tx.toldAvailable.compareTo(verdict.available()) != 0 || tx.toldFrozen.compareTo(verdict.frozen()) != 0) {
                problems.add(tx.id + ": told v" + tx.toldVersion + " " + tx.toldAvailable + "/" + tx.toldFrozen
                        + ", the service keeps v" + verdict.version() + " " + verdict.available() + "/" + verdict.frozen());
            }
        }
        return report("verdicts", problems, String.format("%,d told verdicts all kept as told; %,d never told "
                + "(%,d decided later, %,d unknown to the service)", told, untold, untoldDecided, untoldUnknown),
                Map.of("told", told, "untold", untold, "untold_decided", untoldDecided, "untold_unknown", untoldUnknown));
    }

    // ---------------------------------------------------------------- 2. chains

    private boolean chains() {
        List<String> problems = new ArrayList<>();
        for (Load.Tx tx : load.txs) {
            Kept verdict = kept.get(tx.id);
            if (verdict == null) {
                continue;
            }
            if ("APPLIED".equals(verdict.status())) {
                link(key(tx.account, tx.currency), verdict.version(), new Link(tx.id, tx.type, tx.amount,
                        verdict.available(), verdict.frozen()), problems);
                netInflow.merge(tx.currency, tx.type.equals("DEPOSIT") ? tx.amount
                        : tx.type.equals("WITHDRAW") ? tx.amount.negate() : BigDecimal.ZERO, BigDecimal::add);
                if (tx.type.equals("TRANSFER")) {
                    Kept credit = credits.get(tx.id);
                    if (credit == null) {
                        problems.add(tx.id + ": transfer " + tx.account + " -> " + tx.to + " applied, no credit leg at " + tx.to);
                    } else {
                        link(key(tx.to, tx.currency), credit.version(), new Link(tx.id, "CREDIT", tx.amount,
                                credit.available(), credit.frozen()), problems);
                    }
                }
            }
            if (tx.amount.compareTo(verdict.amount()) != 0 || !tx.type.equals(verdict.type())) {
                problems.add(tx.id + ": sent " + tx.type + " " + tx.amount + ", kept " + verdict.type() + " " + verdict.amount());
            }
        }
        long links = 0;
        for (Map.Entry<String, TreeMap<Long, Link>> chain : chains.entrySet()) {
            BigDecimal available = BigDecimal.ZERO;
            BigDecimal frozen = BigDecimal.ZERO;
            long expected = 1;
            for (Map.Entry<Long, Link> entry : chain.getValue().entrySet()) {
                Link link = entry.getValue();
                links++;
                if (entry.getKey() != expected) {
                    problems.add(chain.getKey() + ": versions jump from " + (expected - 1) + " to " + entry.getKey()
                            + " (an applied change nobody was told of, or one lost)");
                    expected = entry.getKey();
                }
                switch (link.kind()) {
                    case "DEPOSIT", "CREDIT" -> available = available.add(link.amount());
                    case "WITHDRAW", "TRANSFER" -> available = available.subtract(link.amount());
                    case "FREEZE" -> {
                        available = available.subtract(link.amount());
                        frozen = frozen.add(link.amount());
                    }
                    case "UNFREEZE" -> {
                        available = available.add(link.amount());
                        frozen = frozen.subtract(link.amount());
                    }
                    default -> problems.add(chain.getKey() + " v" + entry.getKey() + ": unexpected kind " + link.kind());
                }
                if (available.compareTo(link.available()) != 0 || frozen.compareTo(link.frozen()) != 0) {
                    problems.add(chain.getKey() + " v" + entry.getKey() + " (" + link.txId() + " " + link.kind() + " "
                            + link.amount() + "): expected " + available + "/" + frozen + ", the verdict says "
                            + link.available() + "/" + link.frozen());
                    available = link.available();
                    frozen = link.frozen();
                }
                if (available.signum() < 0 || frozen.signum() < 0) {
                    problems.add(chain.getKey() + " v" + entry.getKey() + ": negative " + available + "/" + frozen);
                }
                expected++;
            }
            model.put(chain.getKey(), new State(available, frozen, expected - 1));
        }
        // A rejection must be right for the balance it saw: that balance is the chain's at its version.
        long rejected = 0;
        for (Load.Tx tx : load.txs) {
            Kept verdict = kept.get(tx.id);
            if (verdict == null || !"REJECTED".equals(verdict.status())) {
                continue;
            }
            rejected++;
            State seen = stateAt(key(tx.account, tx.currency), verdict.version());
            if (seen == null || seen.available().compareTo(verdict.available()) != 0
                    || seen.frozen().compareTo(verdict.frozen()) != 0) {
                problems.add(tx.id + ": rejected at v" + verdict.version() + " " + verdict.available() + "/"
                        + verdict.frozen() + ", the chain there is " + seen);
            }
            boolean justified = switch (verdict.result()) {
                case "INSUFFICIENT_FUNDS" -> verdict.available().compareTo(tx.amount) < 0;
                case "INSUFFICIENT_FROZEN" -> verdict.frozen().compareTo(tx.amount) < 0;
                default -> false;
            };
            if (!justified) {
                problems.add(tx.id + ": rejected " + verdict.result() + " for " + tx.type + " " + tx.amount + " with "
                        + verdict.available() + "/" + verdict.frozen());
            }
        }
        return report("chains", problems, String.format("%,d balances, %,d applied changes (credits included) in "
                + "unbroken chains 1..N whose amounts follow; %,d rejections each right for the balance it saw",
                chains.size(), links, rejected), Map.of("balances", chains.size(), "links", links, "rejected", rejected));
    }

    private void link(String key, long version, Link link, List<String> problems) {
        Link previous = chains.computeIfAbsent(key, k -> new TreeMap<>()).putIfAbsent(version, link);
        if (previous != null) {
            problems.add(key + " v" + version + ": two applied changes, " + previous.txId() + " " + previous.kind()
                    + " and " + link.txId() + " " + link.kind());
        }
    }

    private State stateAt(String key, long version) {
        if (version == 0) {
            return State.ZERO;
        }
        TreeMap<Long, Link> chain = chains.get(key);
        Link link = chain == null ? null : chain.get(version);
        return link == null ? null : new State(link.available(), link.frozen(), version);
    }

    // ---------------------------------------------------------------- 3. stores

    private boolean stores() throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        List<String> problems;
        Map<String, Object> figures = new LinkedHashMap<>();
        while (true) {
            problems = new ArrayList<>();
            compareStores(problems, figures);
            if (problems.isEmpty() || System.currentTimeMillis() > deadline) {
                break;
            }
            Thread.sleep(2_000);
        }
        List<String> conservation = new ArrayList<>();
        for (String currency : Load.CURRENCIES) {
            BigDecimal total = BigDecimal.ZERO;
            for (Map.Entry<String, State> entry : model.entrySet()) {
                if (entry.getKey().endsWith("/" + currency)) {
                    total = total.add(entry.getValue().available()).add(entry.getValue().frozen());
                }
            }
            BigDecimal net = netInflow.getOrDefault(currency, BigDecimal.ZERO);
            figures.put("total_" + currency, total.toPlainString());
            if (total.compareTo(net) != 0) {
                conservation.add(currency + ": balances add up to " + total + ", deposits minus withdrawals to " + net);
            }
        }
        boolean stores = report("stores", problems, String.format("%,d balances equal the model in the nodes, in MySQL "
                + "(balances, and the journal: each applied change exactly once) and in Redis", model.size()), figures);
        return stores & report("conservation", conservation, "per currency, balances add up to applied deposits minus "
                + "withdrawals: " + netInflow, Map.of("net", netInflow.toString()));
    }

    private void compareStores(List<String> problems, Map<String, Object> figures) throws Exception {
        // Nodes: every balance the load could have touched, so one nobody was told of shows too.
        Map<String, State> nodes = new HashMap<>();
        List<String> all = new ArrayList<>();
        for (long account = 1; account <= options.accounts(); account++) {
            for (String currency : Load.CURRENCIES) {
                all.add(key(account, currency));
            }
        }
        for (int from = 0; from < all.size(); from += 500) {
            List<String> chunk = all.subList(from, Math.min(all.size(), from + 500));
            StringBuilder body = new StringBuilder("[");
            for (String key : chunk) {
                String[] parts = key.split("/");
                body.append(body.length() > 1 ? "," : "").append("{\"account_id\":").append(parts[0])
                        .append(",\"currency_code\":\"").append(parts[1]).append("\"}");
            }
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(cluster.nodeUrl(0)
                    .resolve("/api/v1/balances/lookup")).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.append(']').toString())).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode results = mapper.readTree(response.body()).path("results");
            for (int i = 0; i < chunk.size(); i++) {
                JsonNode balance = results.path(i).path("balance");
                if (results.path(i).path("code").asInt() == 200) {
                    nodes.put(chunk.get(i), stateOf(balance.path("available").asText(), balance.path("frozen").asText(),
                            balance.path("version").asLong()));
                }
            }
        }
        int nodeDiffs = 0;
        for (String key : all) {
            State expected = model.getOrDefault(key, State.ZERO);
            State seen = nodes.get(key);
            if (!expected.same(seen)) {
                nodeDiffs++;
                problems.add(key + ": the nodes hold " + (seen == null ? "nothing (no answer)" : seen) + ", the model " + expected);
            }
        }
        // MySQL: balances and journal.
        int mysqlDiffs = 0;
        int journalDiffs = 0;
        long journalRows = 0;
        try (Connection connection = mysql(); Statement statement = connection.createStatement()) {
            Map<String, State> rows = new HashMap<>();
            try (ResultSet result = statement.executeQuery("SELECT account_id, currency_code, available, frozen, version FROM balances")) {
                while (result.next()) {
                    rows.put(key(result.getLong(1), result.getString(2)), new State(result.getBigDecimal(3),
                            result.getBigDecimal(4), result.getLong(5)));
                }
            }
            Set<String> keys = new HashSet<>(rows.keySet());
            keys.addAll(model.keySet());
            for (String key : keys) {
                State expected = model.get(key);
                State seen = rows.get(key);
                if (expected == null || !expected.same(seen)) {
                    mysqlDiffs++;
                    problems.add(key + ": MySQL balances " + (seen == null ? "has no row" : "holds " + seen) + ", the model "
                            + (expected == null ? "has no such balance" : expected));
                }
            }
            Map<String, Integer> journal = new HashMap<>();
            try (ResultSet result = statement.executeQuery("SELECT account_id, currency_code, version, transaction_id, leg FROM balance_journal")) {
                while (result.next()) {
                    journalRows++;
                    journal.merge(key(result.getLong(1), result.getString(2)) + " v" + result.getLong(3) + " "
                            + result.getString(4) + " " + ("CREDIT".equals(result.getString(5)) ? "CREDIT" : "own"), 1, Integer::sum);
                }
            }
            Set<String> expectedRows = new HashSet<>();
            for (Map.Entry<String, TreeMap<Long, Link>> chain : chains.entrySet()) {
                for (Map.Entry<Long, Link> link : chain.getValue().entrySet()) {
                    expectedRows.add(chain.getKey() + " v" + link.getKey() + " " + link.getValue().txId() + " "
                            + ("CREDIT".equals(link.getValue().kind()) ? "CREDIT" : "own"));
                }
            }
            for (String row : expectedRows) {
                int count = journal.getOrDefault(row, 0);
                if (count != 1) {
                    journalDiffs++;
                    problems.add("journal " + row + ": " + count + " rows, expected exactly 1");
                }
            }
            for (String row : journal.keySet()) {
                if (!expectedRows.contains(row)) {
                    journalDiffs++;
                    problems.add("journal " + row + ": a row the model does not have");
                }
            }
        }
        // Redis.
        int redisDiffs = 0;
        Map<String, State> redis = readRedis();
        Set<String> keys = new HashSet<>(redis.keySet());
        keys.addAll(model.keySet());
        for (String key : keys) {
            State expected = model.get(key);
            State seen = redis.get(key);
            if (expected == null || !expected.same(seen)) {
                redisDiffs++;
                problems.add(key + ": Redis " + (seen == null ? "has no field" : "holds " + seen) + ", the model "
                        + (expected == null ? "has no such balance" : expected));
            }
        }
        figures.put("balances", model.size());
        figures.put("node_differences", nodeDiffs);
        figures.put("mysql_differences", mysqlDiffs);
        figures.put("journal_rows", journalRows);
        figures.put("journal_differences", journalDiffs);
        figures.put("redis_differences", redisDiffs);
    }

    private Map<String, State> readRedis() {
        Map<String, State> seen = new HashMap<>();
        String prefix = cluster.redisPrefix + "balance:";
        try (RedisClient redis = RedisClient.builder().fromURI("redis://" + options.redisHost() + ":" + options.redisPort()).build()) {
            String cursor = ScanParams.SCAN_POINTER_START;
            ScanParams match = new ScanParams().match(prefix + "*").count(1_000);
            do {
                ScanResult<String> page = redis.scan(cursor, match);
                for (String hash : page.getResult()) {
                    long account = Long.parseLong(hash.substring(prefix.length()));
                    redis.hgetAll(hash).forEach((currency, value) -> {
                        String[] parts = value.split("\\|");
                        seen.put(key(account, currency), stateOf(parts[1], parts[2], Long.parseLong(parts[0])));
                    });
                }
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        }
        return seen;
    }

    /** The existing reconciliation, run as scripts/reconcile runs it, against the same stores. */
    private boolean reconcile() throws Exception {
        Path output = cluster.reconcileEnv().isEmpty() ? null : Files.createTempFile("chaos-reconcile", ".txt");
        Process process = cluster.reconcile(output);
        boolean done = process.waitFor(180, TimeUnit.SECONDS);
        List<String> lines = Files.readAllLines(output);
        Files.deleteIfExists(output);
        List<String> problems = new ArrayList<>();
        if (!done) {
            process.destroyForcibly();
            problems.add("reconcile did not finish within 180 s");
        } else if (process.exitValue() != 0) {
            problems.add("reconcile exited " + process.exitValue());
            lines.stream().filter(line -> line.startsWith("DIFF") || line.contains("could not")).limit(20).forEach(problems::add);
        }
        String last = lines.isEmpty() ? "(no output)" : lines.get(lines.size() - 1);
        return report("reconcile", problems, last, Map.of("last_line", last));
    }

    // ---------------------------------------------------------------- 4. answers

    private boolean answers() {
        List<String> problems = new ArrayList<>(load.stats.violations);
        Map<String, Object> codes = new TreeMap<>();
        load.stats.changeCodes.forEach((code, count) -> codes.put(Integer.toString(code), count.sum()));
        return report("answers", problems, "no 5xx other than 503, no 409 for a retry, no other refusal; answers by code "
                + codes, Map.of("codes", codes));
    }

    Map<String, Object> figures(Chaos.Controller controller) {
        Map<String, Object> figures = new LinkedHashMap<>();
        Load.Stats stats = load.stats;
        long longestDecide = 0;
        String longestTx = null;
        for (Load.Tx tx : load.txs) {
            if (tx.told != null && tx.decidedNanos - tx.firstSentNanos > longestDecide) {
                longestDecide = tx.decidedNanos - tx.firstSentNanos;
                longestTx = tx.id;
            }
        }
        figures.put("changes", load.txs.size());
        figures.put("requests", stats.requests.sum());
        figures.put("batches", stats.batches.sum());
        figures.put("node_kills", controller.nodeKills.get());
        figures.put("state_wipes", controller.wipes.get());
        figures.put("broker_kills", controller.brokerKills.get());
        figures.put("sink_kills", controller.sinkKills.get());
        figures.put("mysql_cuts", controller.mysqlCuts.get());
        figures.put("redis_cuts", controller.redisCuts.get());
        figures.put("unexpected_exits", controller.unexpectedExits.get());
        figures.put("longest_node_recovery_ms", controller.longestRecoveryMs.get());
        figures.put("client_retries", stats.retries.sum());
        figures.put("connection_errors", stats.connectionErrors.sum());
        figures.put("answers_202", stats.count(202));
        figures.put("answers_503", stats.count(503));
        figures.put("longest_decide_ms", TimeUnit.NANOSECONDS.toMillis(longestDecide));
        figures.put("longest_decide_tx", longestTx);
        figures.put("reads", stats.reads.sum());
        figures.put("read_failures", stats.readFailures.sum());
        figures.put("reads_rerouted", stats.readsRerouted.sum());
        figures.put("read_failure_samples", new ArrayList<>(stats.readFailureSamples));
        figures.put("longest_read_gap_ms", TimeUnit.NANOSECONDS.toMillis(stats.longestReadGapNanos.get()));
        out.println("chaos: figures " + figures);
        return figures;
    }

    private boolean report(String name, List<String> problems, String passLine, Map<String, Object> figures) {
        Map<String, Object> result = new LinkedHashMap<>(figures);
        result.put("passed", problems.isEmpty());
        if (problems.isEmpty()) {
            out.println("chaos: PASS " + name + ": " + passLine);
        } else {
            out.println("chaos: FAIL " + name + ": " + problems.size() + " problems, first ones:");
            problems.stream().limit(20).forEach(problem -> out.println("chaos:      " + problem));
            result.put("problems", problems.subList(0, Math.min(problems.size(), 100)));
        }
        results.put(name, result);
        return problems.isEmpty();
    }

    /** After a passed run: the run's database and Redis keys go. */
    void dropStores() {
        try (Connection connection = DriverManager.getConnection("jdbc:mysql://" + options.mysqlHost() + ":"
                + options.mysqlPort() + "/", options.mysqlUser(), options.mysqlPassword());
             Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS `" + cluster.database() + "`");
        } catch (SQLException e) {
            out.println("chaos: could not drop database " + cluster.database() + ": " + e.getMessage());
        }
        try (RedisClient redis = RedisClient.builder().fromURI("redis://" + options.redisHost() + ":" + options.redisPort()).build()) {
            RedisClients.deleteMatching(redis, cluster.redisPrefix + "*");
        }
    }

    private Connection mysql() throws SQLException {
        return DriverManager.getConnection(cluster.directMysqlUrl(), options.mysqlUser(), options.mysqlPassword());
    }

    private static State stateOf(String available, String frozen, long version) {
        return new State(new BigDecimal(available), new BigDecimal(frozen), version);
    }

    private static String key(long account, String currency) {
        return account + "/" + currency;
    }
}
