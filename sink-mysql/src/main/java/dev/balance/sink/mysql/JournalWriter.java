package dev.balance.sink.mysql;

import dev.balance.topology.model.BalanceEvent;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import javax.sql.DataSource;

/**
 * The write path of one batch: every applied event of the batch in one database transaction,
 * as multi-row statements the sink writes as text ({@link RowsText}).
 *
 * <p>The journal is append-ordered: its key is an auto-increment {@code journal_id}, so every
 * insert lands on the right edge of its B-tree and the table can grow far beyond the database's
 * buffer pool without each insert reading a random page from disk (with the earlier key
 * (account_id, currency_code, version) this MariaDB fell to about 7,000 rows/s once the journal
 * outgrew its 128 MB pool). Exactly-once comes from the balances instead of a unique index: the
 * journal and the balance rows are only ever written together, in one transaction, so a balance
 * row at version v says that the journal holds that balance's changes up to v. Per batch:
 * <ol>
 *   <li>the batch's balance rows are locked ({@code SELECT ... FOR UPDATE}, key order); a balance
 *       without a row gets a placeholder at version 0, inserted under the same lock, so a second
 *       sink writing the same events (a partition move) waits here for the first to commit;</li>
 *   <li>the journal gets the events above their balance's stored version, in batch order
 *       (a redelivered event is at or below it and is left out);</li>
 *   <li>each balance that moved is replaced by its highest version. The upsert still compares
 *       with the stored version, so {@code version} is assigned last: MySQL and MariaDB evaluate
 *       the assignments left to right and a later one sees the values of the earlier ones.</li>
 * </ol>
 * This relies on the events of one balance arriving in version order, which Kafka gives: they
 * are all in one partition of {@code balance-events} (keyed by account) and the sink reads it in
 * order, committing offsets only after the database commit. An older version that arrived after
 * a newer one would be taken for one already written.
 *
 * <p>A batch that fails with a data error is split in halves, in order, until the events that can
 * never be written are found; the others are written. Any other failure is thrown: the caller
 * retries the whole batch later.
 */
final class JournalWriter {

    static final String INSERT_JOURNAL = "INSERT INTO balance_journal (account_id, transaction_id, currency_code,"
            + " type, amount, available_after, frozen_after, version, user_id, description, created_at, leg,"
            + " counterparty_account_id) VALUES ";

    static final String UPSERT_BALANCE = "INSERT INTO balances (account_id, currency_code, available, frozen,"
            + " version, updated_at) VALUES ";
    static final String UPSERT_BALANCE_TAIL = " ON DUPLICATE KEY UPDATE"
            + " available = IF(VALUES(version) > version, VALUES(available), available),"
            + " frozen = IF(VALUES(version) > version, VALUES(frozen), frozen),"
            + " updated_at = IF(VALUES(version) > version, VALUES(updated_at), updated_at),"
            + " version = GREATEST(version, VALUES(version))";

    /** Rows per statement: a journal row is about 300 bytes of text, far below max_allowed_packet (16 MB on MariaDB). */
    static final int ROWS_PER_STATEMENT = 1000;

    /** Accounts per locking read: below MariaDB's in_predicate_conversion_threshold (1000), so it stays a key lookup. */
    static final int LOCK_CHUNK = 500;

    /**
     * A row to lock a balance that has none yet; version 0 is below every event's, so the batch
     * replaces it. An existing row (made meanwhile by another writer) is left as it is, but locked.
     */
    static final String PLACEHOLDER_BALANCE = "INSERT INTO balances (account_id, currency_code, available, frozen,"
            + " version, updated_at) VALUES ";
    static final String PLACEHOLDER_BALANCE_TAIL = " ON DUPLICATE KEY UPDATE version = version";

    private static final DateTimeFormatter DATETIME_MS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final DataSource dataSource;

    JournalWriter(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** An event that can never be written, with its position in the written list. */
    record Rejection(int index, SQLException error) {
    }

    /**
     * Writes the events; on a data error, writes all but the events that cause it.
     *
     * @return the events that were not written because of a data error, in index order
     * @throws SQLException any failure that is not a data error; nothing of the failed
     *                      transaction is written, and some halves of a split batch may be
     */
    List<Rejection> write(List<BalanceEvent> events) throws SQLException {
        List<Rejection> rejections = new ArrayList<>();
        writeOrSplit(events, 0, events.size(), rejections);
        return rejections;
    }

    private void writeOrSplit(List<BalanceEvent> events, int from, int to, List<Rejection> rejections)
            throws SQLException {
        if (from >= to) {
            return;
        }
        try {
            writeInOneTransaction(events.subList(from, to));
        } catch (SQLException e) {
            if (!SqlErrors.isDataError(e)) {
                throw e;
            }
            if (to - from == 1) {
                rejections.add(new Rejection(from, e));
                return;
            }
            int middle = (from + to) >>> 1;
            writeOrSplit(events, from, middle, rejections);
            writeOrSplit(events, middle, to, rejections);
        }
    }

    private void writeInOneTransaction(List<BalanceEvent> events) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                List<BalanceEvent> latest = latestPerBalance(events);
                Map<BalanceKey, Long> stored = lockBalances(connection, latest);
                List<BalanceEvent> fresh = new ArrayList<>(events.size());
                for (BalanceEvent event : events) {
                    if (event.version() > storedVersion(stored, event)) {
                        fresh.add(event);
                    }
                }
                if (!fresh.isEmpty()) {
                    insertJournal(connection, fresh);
                    List<BalanceEvent> moved = new ArrayList<>(latest.size());
                    for (BalanceEvent event : latest) {
                        if (event.version() > storedVersion(stored, event)) {
                            moved.add(event);
                        }
                    }
                    upsertBalances(connection, moved);
                }
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(connection, e);
                throw e;
            }
        }
    }

    /**
     * The locked version of the event's balance. Every balance of the batch has a row by now; one
     * that the database does not give back under the event's own key (a currency code it compares
     * differently) is this event's problem, so it is reported as a data error and goes to the
     * dead-letter topic rather than stalling the sink.
     */
    private static long storedVersion(Map<BalanceKey, Long> stored, BalanceEvent event) throws SQLException {
        Long version = stored.get(BalanceKey.of(event));
        if (version == null) {
            throw new SQLException("the balance row of account " + event.accountId() + " currency '" + event.currency()
                    + "' was not found after it was locked", "22000");
        }
        return version;
    }

    /**
     * Locks the row of every balance in {@code latest} (in key order, so two writers that overlap
     * cannot deadlock) and returns each one's stored version, 0 for a balance that had no row and
     * now has a placeholder.
     */
    private static Map<BalanceKey, Long> lockBalances(Connection connection, List<BalanceEvent> latest)
            throws SQLException {
        Map<BalanceKey, Long> stored = new HashMap<>(latest.size() * 2);
        selectForUpdate(connection, latest, stored);
        List<BalanceEvent> missing = new ArrayList<>();
        for (BalanceEvent event : latest) {
            if (!stored.containsKey(BalanceKey.of(event))) {
                missing.add(event);
            }
        }
        if (!missing.isEmpty()) {
            writeRows(connection, PLACEHOLDER_BALANCE, PLACEHOLDER_BALANCE_TAIL, missing, (rows, event) -> rows
                    .number(event.accountId()).next().string(event.currency()).sql(", 0, 0, 0, ")
                    .string(utcText(event.timestampMs())));
            // Another writer may have created some of them since the first read: read them again,
            // now under this transaction's lock.
            selectForUpdate(connection, missing, stored);
        }
        return stored;
    }

    private static void selectForUpdate(Connection connection, List<BalanceEvent> sortedByKey,
                                        Map<BalanceKey, Long> stored) throws SQLException {
        Set<BalanceKey> wanted = new HashSet<>(sortedByKey.size() * 2);
        long[] accounts = new long[sortedByKey.size()];
        int distinct = 0;
        for (BalanceEvent event : sortedByKey) {
            wanted.add(BalanceKey.of(event));
            if (distinct == 0 || accounts[distinct - 1] != event.accountId()) {
                accounts[distinct++] = event.accountId();
            }
        }
        try (Statement statement = connection.createStatement()) {
            for (int from = 0; from < distinct; from += LOCK_CHUNK) {
                int to = Math.min(distinct, from + LOCK_CHUNK);
                StringBuilder select = new StringBuilder(LOCK_CHUNK * 12 + 120)
                        .append("SELECT account_id, currency_code, version FROM balances WHERE account_id IN (");
                for (int i = from; i < to; i++) {
                    select.append(i == from ? "" : ", ").append(accounts[i]);
                }
                select.append(") ORDER BY account_id, currency_code FOR UPDATE");
                try (ResultSet rows = statement.executeQuery(select.toString())) {
                    while (rows.next()) {
                        BalanceKey key = new BalanceKey(rows.getLong(1), rows.getString(2));
                        if (wanted.contains(key)) {
                            stored.put(key, rows.getLong(3));
                        }
                    }
                }
            }
        }
    }

    /**
     * Writes one row per event, at most {@link #ROWS_PER_STATEMENT} to a statement: {@code head},
     * the rows that {@code row} fills in between their parentheses, then {@code tail}.
     */
    private static void writeRows(Connection connection, String head, String tail, List<BalanceEvent> events,
                                  BiConsumer<RowsText, BalanceEvent> row) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (int from = 0; from < events.size(); from += ROWS_PER_STATEMENT) {
                int to = Math.min(events.size(), from + ROWS_PER_STATEMENT);
                RowsText rows = new RowsText(head, to - from);
                for (BalanceEvent event : events.subList(from, to)) {
                    row.accept(rows.row(), event);
                    rows.endRow();
                }
                statement.executeUpdate(rows.sql(tail).text());
            }
        }
    }

    private static void insertJournal(Connection connection, List<BalanceEvent> events) throws SQLException {
        writeRows(connection, INSERT_JOURNAL, "", events, (rows, event) -> {
            rows.number(event.accountId()).next().string(event.transactionId()).next()
                    .string(event.currency()).next().string(event.type().name()).next()
                    .decimal(event.amount()).next().decimal(event.availableAfter()).next()
                    .decimal(event.frozenAfter()).next().number(event.version()).next()
                    .string(event.userId()).next().string(event.description()).next()
                    .string(utcText(event.timestampMs())).next().string(event.leg().name()).next();
            if (event.toAccountId() == 0) {
                rows.sql("NULL");
            } else {
                rows.number(event.toAccountId());
            }
        });
    }

    private static void upsertBalances(Connection connection, List<BalanceEvent> latest) throws SQLException {
        writeRows(connection, UPSERT_BALANCE, UPSERT_BALANCE_TAIL, latest, (rows, event) -> rows
                .number(event.accountId()).next().string(event.currency()).next()
                .decimal(event.availableAfter()).next().decimal(event.frozenAfter()).next()
                .number(event.version()).next().string(utcText(event.timestampMs())));
    }

    /**
     * The highest-version event of each balance in the batch, in key order. Only that one can
     * win the version guard, so the others need not be sent.
     */
    static List<BalanceEvent> latestPerBalance(List<BalanceEvent> events) {
        Map<BalanceKey, BalanceEvent> latest = new LinkedHashMap<>();
        for (BalanceEvent event : events) {
            latest.merge(new BalanceKey(event.accountId(), event.currency()), event,
                    (kept, next) -> next.version() > kept.version() ? next : kept);
        }
        List<BalanceEvent> sorted = new ArrayList<>(latest.values());
        sorted.sort(Comparator.comparingLong(BalanceEvent::accountId).thenComparing(BalanceEvent::currency));
        return sorted;
    }

    /** Event times are stored as UTC wall-clock values, so the session time zone never shifts them. */
    static LocalDateTime utc(long epochMs) {
        return LocalDateTime.ofInstant(Instant.ofEpochMilli(epochMs), ZoneOffset.UTC);
    }

    /**
     * The time as a DATETIME(3) literal. It is bound as text because MySQL Connector/J drops the
     * milliseconds of a LocalDateTime when the server is MariaDB (which announces itself with a
     * 5.5.5- version prefix, older than fractional seconds); text keeps them on both servers.
     */
    static String utcText(long epochMs) {
        return DATETIME_MS.format(utc(epochMs));
    }

    private static void rollbackQuietly(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            // The connection is most likely gone, and the server rolls back what it never saw
            // committed; keep the rollback failure with the original error.
            cause.addSuppressed(rollbackFailure);
        }
    }

    private record BalanceKey(long accountId, String currency) {
        static BalanceKey of(BalanceEvent event) {
            return new BalanceKey(event.accountId(), event.currency());
        }
    }
}
