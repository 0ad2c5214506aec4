package dev.balance.sink.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A journal made by an earlier release is migrated at start, keeping its rows, and only once. */
class JournalMigrationIT {

    private static final String PREVIOUS_JOURNAL = "CREATE TABLE balance_journal ("
            + " account_id BIGINT NOT NULL, transaction_id VARCHAR(64) NOT NULL, currency_code VARCHAR(16) NOT NULL,"
            + " type VARCHAR(16) NOT NULL, amount DECIMAL(38,18) NOT NULL, available_after DECIMAL(38,18) NOT NULL,"
            + " frozen_after DECIMAL(38,18) NOT NULL, version BIGINT NOT NULL, user_id VARCHAR(64) NULL,"
            + " description VARCHAR(256) NULL, created_at DATETIME(3) NOT NULL,"
            + " leg VARCHAR(8) NOT NULL DEFAULT 'NONE', counterparty_account_id BIGINT NULL,"
            + " PRIMARY KEY (account_id, currency_code, version)) ENGINE = InnoDB";

    private static final String EARLIER_JOURNAL = "CREATE TABLE balance_journal ("
            + " account_id BIGINT NOT NULL, transaction_id VARCHAR(64) NOT NULL, currency_code VARCHAR(16) NOT NULL,"
            + " type VARCHAR(16) NOT NULL, amount DECIMAL(38,18) NOT NULL, available_after DECIMAL(38,18) NOT NULL,"
            + " frozen_after DECIMAL(38,18) NOT NULL, version BIGINT NOT NULL, user_id VARCHAR(64) NULL,"
            + " description VARCHAR(256) NULL, created_at DATETIME(3) NOT NULL,"
            + " PRIMARY KEY (account_id, transaction_id)) ENGINE = InnoDB";

    @Test
    void shouldMoveAnEarlierJournalToTheAppendKeyWithLegColumnsKeepingItsRows() throws SQLException {
        try (TestDatabase database = TestDatabase.random()) {
            // Given a database with the journal of the earlier release and one row in it
            MysqlSinkConfig config = givenJournal(database, EARLIER_JOURNAL,
                    "(42, 't1', 'BTC', 'DEPOSIT', 1.5, 1.5, 0, 1, 'u', 'd', '2026-01-01 00:00:00.123')");

            // When the sink's schema step runs, twice (a restart)
            SchemaScript.apply(config);
            SchemaScript.apply(config);

            // Then the key is journal_id, the legs have columns, and the row is kept
            try (Connection connection = DriverManager.getConnection(database.url(), TestDatabase.USER,
                    TestDatabase.PASSWORD)) {
                assertThat(SchemaScript.journalKey(connection, database.name())).containsExactly("journal_id");
                assertThat(SchemaScript.journalColumns(connection, database.name()))
                        .contains("leg", "counterparty_account_id");
            }
            assertThat(database.journal()).containsExactly(
                    "42|t1|BTC|DEPOSIT|1.500000000000000000|1.500000000000000000|0.000000000000000000|1|u|d|"
                            + "2026-01-01T00:00:00.123|NONE|null");
        }
    }

    @Test
    void shouldNumberThePreviousJournalsRowsInTheirKeyOrderAndKeepWriting() throws SQLException {
        try (TestDatabase database = TestDatabase.random()) {
            // Given the journal of the previous release, keyed by (account, currency, version), with
            // rows inserted out of key order
            MysqlSinkConfig config = givenJournal(database, PREVIOUS_JOURNAL,
                    "(7, 't2', 'BTC', 'DEPOSIT', 1, 2, 0, 2, NULL, NULL, '2026-01-01 00:00:02', 'NONE', NULL)",
                    "(7, 't1', 'BTC', 'DEPOSIT', 1, 1, 0, 1, NULL, NULL, '2026-01-01 00:00:01', 'NONE', NULL)",
                    "(3, 't9', 'ETH', 'DEPOSIT', 5, 5, 0, 1, NULL, NULL, '2026-01-01 00:00:03', 'NONE', NULL)");

            // When the sink's schema step runs, twice (a restart)
            SchemaScript.apply(config);
            SchemaScript.apply(config);

            // Then the key is journal_id, numbering the rows in their old key order
            try (Connection connection = DriverManager.getConnection(database.url(), TestDatabase.USER,
                    TestDatabase.PASSWORD); Statement statement = connection.createStatement()) {
                assertThat(SchemaScript.journalKey(connection, database.name())).containsExactly("journal_id");
                List<String> rows = new ArrayList<>();
                try (ResultSet result = statement.executeQuery(
                        "SELECT journal_id, account_id, transaction_id FROM balance_journal ORDER BY journal_id")) {
                    while (result.next()) {
                        rows.add(result.getLong(1) + " " + result.getLong(2) + " " + result.getString(3));
                    }
                }
                assertThat(rows).containsExactly("1 3 t9", "2 7 t1", "3 7 t2");
                // and a new row is numbered after them
                statement.execute("INSERT INTO balance_journal (account_id, transaction_id, currency_code, type, amount,"
                        + " available_after, frozen_after, version, created_at) VALUES (7, 't3', 'BTC', 'DEPOSIT', 1, 3, 0, 3,"
                        + " '2026-01-01 00:00:04')");
                try (ResultSet result = statement.executeQuery(
                        "SELECT journal_id FROM balance_journal WHERE transaction_id = 't3'")) {
                    assertThat(result.next()).isTrue();
                    assertThat(result.getLong(1)).isEqualTo(4);
                }
            }
        }
    }

    /** Creates the test's database with a journal made by {@code createTable} and the rows, one insert each, in order. */
    private static MysqlSinkConfig givenJournal(TestDatabase database, String createTable, String... rows)
            throws SQLException {
        MysqlSinkConfig config = MysqlSinkConfig.fromEnv(Map.of("MYSQL_URL", database.url()));
        try (Connection connection = DriverManager.getConnection(config.serverUrl(), TestDatabase.USER,
                TestDatabase.PASSWORD); Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE `" + database.name() + "`");
            statement.execute("USE `" + database.name() + "`");
            statement.execute(createTable);
            for (String row : rows) {
                statement.execute("INSERT INTO balance_journal VALUES " + row);
            }
        }
        return config;
    }
}
