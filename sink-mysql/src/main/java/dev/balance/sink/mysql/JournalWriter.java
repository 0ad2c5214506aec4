package dev.balance.sink.mysql;

import dev.balance.topology.model.BalanceEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The write path of one batch: every applied event of the batch in one database transaction, as
 * two batched statements (rewritten by the driver into multi-row inserts).
 *
 * <p>Both statements are idempotent, so a redelivered batch, a batch re-read after a partition
 * moved, or a batch retried after a lost connection leaves the tables as one delivery would:
 * <ul>
 *   <li>a journal row is inserted once per (account_id, currency_code, version), the one applied
 *       change that moved that balance to that version; a second insert of the same key changes
 *       nothing. This uses a no-op ON DUPLICATE KEY UPDATE rather than INSERT
 *       IGNORE, because IGNORE would also turn data errors (a value too long for its column)
 *       into silently truncated rows, and such an event must go to the dead-letter topic.</li>
 *   <li>a balance row is replaced only by a higher version. Every assignment compares against
 *       the stored version, so {@code version} is assigned last: MySQL and MariaDB evaluate the
 *       assignments left to right and a later one sees the values of the earlier ones.</li>
 * </ul>
 *
 * <p>A batch that fails with a data error is split in halves until the events that can never be
 * written are found; the others are written. Any other failure is thrown: the caller retries the
 * whole batch later.
 */
final class JournalWriter {

    static final String INSERT_JOURNAL = "INSERT INTO balance_journal (account_id, transaction_id, currency_code,"
            + " type, amount, available_after, frozen_after, version, user_id, description, created_at, leg,"
            + " counterparty_account_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            + " ON DUPLICATE KEY UPDATE account_id = account_id";

    static final String UPSERT_BALANCE = "INSERT INTO balances (account_id, currency_code, available, frozen,"
            + " version, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            + " ON DUPLICATE KEY UPDATE"
            + " available = IF(VALUES(version) > version, VALUES(available), available),"
            + " frozen = IF(VALUES(version) > version, VALUES(frozen), frozen),"
            + " updated_at = IF(VALUES(version) > version, VALUES(updated_at), updated_at),"
            + " version = GREATEST(version, VALUES(version))";

    private static final Comparator<BalanceEvent> BY_JOURNAL_KEY = Comparator
            .comparingLong(BalanceEvent::accountId).thenComparing(BalanceEvent::currency)
            .thenComparingLong(BalanceEvent::version);

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
                insertJournal(connection, events);
                upsertBalances(connection, latestPerBalance(events));
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(connection, e);
                throw e;
            }
        }
    }

    private static void insertJournal(Connection connection, List<BalanceEvent> events) throws SQLException {
        List<BalanceEvent> sorted = new ArrayList<>(events);
        // Key order keeps index locks in one order across writers, so two sinks that overlap
        // during a partition move cannot deadlock each other.
        sorted.sort(BY_JOURNAL_KEY);
        try (PreparedStatement insert = connection.prepareStatement(INSERT_JOURNAL)) {
            for (BalanceEvent event : sorted) {
                insert.setLong(1, event.accountId());
                insert.setString(2, event.transactionId());
                insert.setString(3, event.currency());
                insert.setString(4, event.type().name());
                insert.setBigDecimal(5, event.amount());
                insert.setBigDecimal(6, event.availableAfter());
                insert.setBigDecimal(7, event.frozenAfter());
                insert.setLong(8, event.version());
                insert.setString(9, event.userId());
                insert.setString(10, event.description());
                insert.setString(11, utcText(event.timestampMs()));
                insert.setString(12, event.leg().name());
                if (event.toAccountId() == 0) {
                    insert.setNull(13, java.sql.Types.BIGINT);
                } else {
                    insert.setLong(13, event.toAccountId());
                }
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    private static void upsertBalances(Connection connection, List<BalanceEvent> latest) throws SQLException {
        try (PreparedStatement upsert = connection.prepareStatement(UPSERT_BALANCE)) {
            for (BalanceEvent event : latest) {
                upsert.setLong(1, event.accountId());
                upsert.setString(2, event.currency());
                upsert.setBigDecimal(3, event.availableAfter());
                upsert.setBigDecimal(4, event.frozenAfter());
                upsert.setLong(5, event.version());
                upsert.setString(6, utcText(event.timestampMs()));
                upsert.addBatch();
            }
            upsert.executeBatch();
        }
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
    }
}
