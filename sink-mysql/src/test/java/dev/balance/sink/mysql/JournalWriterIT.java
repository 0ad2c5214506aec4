package dev.balance.sink.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.balance.sink.mysql.JournalWriter.Rejection;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Leg;
import dev.balance.topology.model.Result;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The write path alone against the real database: idempotence, the version guard, splitting out bad rows. */
class JournalWriterIT {

    private static TestDatabase database;
    private static HikariDataSource dataSource;
    private static JournalWriter writer;

    @BeforeAll
    static void createSchema() throws SQLException {
        database = TestDatabase.random();
        MysqlSinkConfig config = MysqlSinkConfig.fromEnv(Map.of("MYSQL_URL", database.url()));
        SchemaScript.apply(config);
        // A second run must change nothing and fail on nothing.
        SchemaScript.apply(config);
        HikariConfig pool = new HikariConfig();
        pool.setJdbcUrl(database.url());
        pool.setUsername(TestDatabase.USER);
        pool.setPassword(TestDatabase.PASSWORD);
        pool.setMaximumPoolSize(2);
        pool.setAutoCommit(false);
        // As the sink's own pool (MysqlSink.poolConfig): no gap locks between overlapping writers.
        pool.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        pool.setConnectionInitSql(MysqlSink.SESSION_SQL);
        pool.addDataSourceProperty("rewriteBatchedStatements", "true");
        dataSource = new HikariDataSource(pool);
        writer = new JournalWriter(dataSource);
    }

    @AfterAll
    static void dropSchema() {
        dataSource.close();
        database.close();
    }

    @BeforeEach
    void emptyTables() throws SQLException {
        try (var connection = dataSource.getConnection(); var statement = connection.createStatement()) {
            statement.execute("DELETE FROM balances");
            statement.execute("DELETE FROM balance_journal");
            connection.commit();
        }
    }

    @Test
    void shouldWriteEveryVersionOnceWhenBatchesOverlapAndAreScrambledWithin() throws SQLException {
        // Given versions 1..6 of one balance
        EventStream stream = EventStream.empty();
        List<BalanceEvent> versions = new ArrayList<>();
        for (int version = 1; version <= 6; version++) {
            versions.add(deposit(3, "BTC", "tx-" + version, version));
        }
        versions.forEach(stream::add);

        // When they are written as {2, 1, 3}, then {4, 3, 6, 5} (3 delivered again), then all again
        writer.write(List.of(versions.get(1), versions.get(0), versions.get(2)));
        writer.write(List.of(versions.get(3), versions.get(2), versions.get(5), versions.get(4)));
        writer.write(versions);

        // Then the balance is version 6 and the journal has every change once
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
        assertThat(database.balances()).singleElement().asString().contains("|6|");
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal()).hasSize(6);
    }

    @Test
    void shouldWriteEachChangeOnceWhenTwoWritersWriteTheSameBatchesAtTheSameTime() throws Exception {
        // Given a stream over a few new balances, in batches, as two sinks overlapping during a
        // partition move would both write them
        EventStream stream = EventStream.random(11, 6, 3000);
        List<BalanceEvent> applied = stream.events().stream().filter(BalanceEvent::movedBalance).toList();
        List<List<BalanceEvent>> batches = new ArrayList<>();
        for (int from = 0; from < applied.size(); from += 100) {
            batches.add(applied.subList(from, Math.min(applied.size(), from + 100)));
        }

        // When two writers write all of them concurrently, each batch started by both together
        CyclicBarrier together = new CyclicBarrier(2);
        Callable<Void> writeAll = () -> {
            for (List<BalanceEvent> batch : batches) {
                together.await(30, TimeUnit.SECONDS);
                writeRetryingAsTheSinkDoes(batch);
            }
            return null;
        };
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            Future<Void> first = two.submit(writeAll);
            Future<Void> second = two.submit(writeAll);
            first.get(120, TimeUnit.SECONDS);
            second.get(120, TimeUnit.SECONDS);
        } finally {
            two.shutdownNow();
        }

        // Then the tables are those of one writer
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
    }

    @Test
    void shouldChangeNothingWhenABatchIsWrittenAgain() throws SQLException {
        // Given a batch written once
        EventStream stream = EventStream.random(3, 5, 300);
        List<BalanceEvent> applied = stream.events().stream().filter(BalanceEvent::movedBalance).toList();
        writer.write(applied);
        List<String> journal = database.journal();
        List<String> balances = database.balances();

        // When the same batch is written again, and again in halves
        writer.write(applied);
        writer.write(applied.subList(applied.size() / 2, applied.size()));
        writer.write(applied.subList(0, applied.size() / 2));

        // Then the tables are those of one write, and as the model says
        assertThat(database.journal()).containsExactlyElementsOf(journal).containsExactlyElementsOf(stream.expectedJournal());
        assertThat(database.balances()).containsExactlyElementsOf(balances)
                .containsExactlyElementsOf(stream.expectedBalances());
    }

    @Test
    void shouldRejectOnlyTheRowsThatCanNeverBeWritten() throws SQLException {
        // Given a batch where three events break a column limit and the others are fine
        EventStream stream = EventStream.empty();
        List<BalanceEvent> batch = new ArrayList<>();
        Map<Integer, String> badAt = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            BalanceEvent good = deposit(100 + i, "ETH", "tx-" + i, 1);
            if (i == 0 || i == 17 || i == 39) {
                String reason = i == 0 ? "currency" : i == 17 ? "description" : "user";
                batch.add(breaking(good, reason));
                badAt.put(i, reason);
            } else {
                batch.add(good);
                stream.add(good);
            }
        }

        // When the batch is written
        List<Rejection> rejections = writer.write(batch);

        // Then exactly the bad ones are rejected, with a data error, and every other row is written
        assertThat(rejections).extracting(Rejection::index).containsExactly(0, 17, 39);
        assertThat(rejections).allMatch(rejection -> rejection.error().getSQLState().startsWith("22"));
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal()).hasSize(37);
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
    }

    @Test
    void shouldKeepBothLegsOfATransferUnderTheirOwnAccountsBesideTheDestinationsOwnChangeWithTheSameId()
            throws SQLException {
        // Given Bob's own deposit "t1", and Alice's transfer "t1" to Bob: her debit and his credit
        BalanceEvent bobsOwn = deposit(43, "BTC", "t1", 1);
        BalanceEvent debit = leg(42, "t1", Leg.DEBIT, 43, "6", 2);
        BalanceEvent credit = leg(43, "t1", Leg.CREDIT, 42, "5.5", 2);
        EventStream stream = EventStream.empty();
        List.of(bobsOwn, debit, credit).forEach(stream::add);

        // When they are written, twice
        writer.write(List.of(bobsOwn, debit, credit));
        writer.write(List.of(credit, debit));

        // Then the journal holds each once, the legs marked and linked by their counterparty
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal()).hasSize(3);
        assertThat(database.journal()).anySatisfy(row -> assertThat(row).startsWith("42|t1|").endsWith("|DEBIT|43"))
                .anySatisfy(row -> assertThat(row).startsWith("43|t1|").endsWith("|CREDIT|42"))
                .anySatisfy(row -> assertThat(row).startsWith("43|t1|").endsWith("|NONE|null"));
    }

    @Test
    void shouldStoreEveryCharacterOfTheTextColumnsAsSentQuotesBackslashesAndAllUnicode() throws SQLException {
        // Given changes whose user and description hold what SQL text would have to escape
        String[] texts = {"it's", "back\\slash \\' \\", "'); DROP TABLE balances; --", "nul \0 byte", "tab\tnew\nline",
            "\u00e9t\u00e9 \u20ac \u4e2d\u6587 \ud83d\ude80", "\"double\"", "%_"};
        EventStream stream = EventStream.empty();
        List<BalanceEvent> batch = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            BalanceEvent plain = deposit(500 + i, "BTC", "tx-" + i, 1);
            BalanceEvent event = new BalanceEvent(texts[i].length() <= 64 ? "id " + texts[i] : plain.transactionId(),
                    plain.accountId(), plain.currency(), plain.type(), plain.amount(), 0L, plain.result(), false,
                    plain.availableBefore(), plain.frozenBefore(), plain.availableAfter(), plain.frozenAfter(),
                    plain.version(), plain.timestampMs(), texts[i], "about " + texts[i], null);
            batch.add(event);
            stream.add(event);
        }

        // When they are written
        List<Rejection> rejections = writer.write(batch);

        // Then every row holds exactly the strings sent, and both tables are still there
        assertThat(rejections).isEmpty();
        assertThat(database.journal()).containsExactlyElementsOf(stream.expectedJournal()).hasSize(texts.length);
        assertThat(database.balances()).containsExactlyElementsOf(stream.expectedBalances());
    }

    @Test
    void shouldKeepATransactionIdAppliedAgainAfterTheDedupRetentionAsASecondRow() throws SQLException {
        // Given "t1" applied at version 1 and, its id forgotten after the retention, applied again at version 4
        BalanceEvent first = deposit(7, "USDT", "t1", 1);
        BalanceEvent again = deposit(7, "USDT", "t1", 4);

        // When both are written, the second twice
        writer.write(List.of(first));
        writer.write(List.of(again));
        writer.write(List.of(again));

        // Then the ledger holds both applications
        assertThat(database.journal()).hasSize(2).allSatisfy(row -> assertThat(row).startsWith("7|t1|USDT|"));
    }

    /** The sink retries a batch that failed for any reason but its rows (a deadlock, a lock wait timeout). */
    private static void writeRetryingAsTheSinkDoes(List<BalanceEvent> batch) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try {
                writer.write(batch);
                return;
            } catch (SQLException e) {
                if (SqlErrors.isDataError(e) || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private static BalanceEvent leg(long account, String transactionId, Leg leg, long counterparty, String after,
                                    long version) {
        BigDecimal amount = new BigDecimal("4");
        BigDecimal availableAfter = new BigDecimal(after);
        BigDecimal before = leg == Leg.DEBIT ? availableAfter.add(amount) : availableAfter.subtract(amount);
        return new BalanceEvent(transactionId, account, "BTC", ChangeType.TRANSFER, amount, counterparty,
                Result.APPLIED, false, before, BigDecimal.ZERO, availableAfter, BigDecimal.ZERO, version,
                1_700_000_000_000L + version, null, null, null, leg);
    }

    private static BalanceEvent breaking(BalanceEvent event, String reason) {
        String currency = reason.equals("currency") ? "E".repeat(17) : event.currency();
        String description = reason.equals("description") ? "d".repeat(257) : event.description();
        String user = reason.equals("user") ? "u".repeat(65) : event.userId();
        return new BalanceEvent(event.transactionId(), event.accountId(), currency, event.type(), event.amount(), 0L,
                event.result(), false, event.availableBefore(), event.frozenBefore(), event.availableAfter(),
                event.frozenAfter(), event.version(), event.timestampMs(), user, description, null);
    }

    private static BalanceEvent deposit(long account, String currency, String transactionId, long version) {
        BigDecimal amount = new BigDecimal("1.5");
        BigDecimal after = amount.multiply(BigDecimal.valueOf(version));
        return new BalanceEvent(transactionId, account, currency, ChangeType.DEPOSIT, amount, 0L, Result.APPLIED,
                false, after.subtract(amount), BigDecimal.ZERO, after, BigDecimal.ZERO, version,
                1_700_000_000_000L + version * 1234, "user-" + account, "deposit " + transactionId, null);
    }
}
