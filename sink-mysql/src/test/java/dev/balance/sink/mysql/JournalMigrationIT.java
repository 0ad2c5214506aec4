package dev.balance.sink.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A journal made by an earlier release is migrated at start, keeping its rows, and only once. */
class JournalMigrationIT {

    private static final String EARLIER_JOURNAL = "CREATE TABLE balance_journal ("
            + " account_id BIGINT NOT NULL, transaction_id VARCHAR(64) NOT NULL, currency_code VARCHAR(16) NOT NULL,"
            + " type VARCHAR(16) NOT NULL, amount DECIMAL(38,18) NOT NULL, available_after DECIMAL(38,18) NOT NULL,"
            + " frozen_after DECIMAL(38,18) NOT NULL, version BIGINT NOT NULL, user_id VARCHAR(64) NULL,"
            + " description VARCHAR(256) NULL, created_at DATETIME(3) NOT NULL,"
            + " PRIMARY KEY (account_id, transaction_id)) ENGINE = InnoDB";

    @Test
    void shouldMoveAnEarlierJournalToTheVersionKeyWithLegColumnsKeepingItsRows() throws SQLException {
        try (TestDatabase database = TestDatabase.random()) {
            // Given a database with the journal of the earlier release and one row in it
            MysqlSinkConfig config = MysqlSinkConfig.fromEnv(Map.of("MYSQL_URL", database.url()));
            try (Connection connection = DriverManager.getConnection(config.serverUrl(), TestDatabase.USER,
                    TestDatabase.PASSWORD); Statement statement = connection.createStatement()) {
                statement.execute("CREATE DATABASE `" + database.name() + "`");
                statement.execute("USE `" + database.name() + "`");
                statement.execute(EARLIER_JOURNAL);
                statement.execute("INSERT INTO balance_journal VALUES (42, 't1', 'BTC', 'DEPOSIT', 1.5, 1.5, 0, 1,"
                        + " 'u', 'd', '2026-01-01 00:00:00.123')");
            }

            // When the sink's schema step runs, twice (a restart)
            SchemaScript.apply(config);
            SchemaScript.apply(config);

            // Then the key is (account, currency, version), the legs have columns, and the row is kept
            try (Connection connection = DriverManager.getConnection(database.url(), TestDatabase.USER,
                    TestDatabase.PASSWORD)) {
                assertThat(SchemaScript.journalKey(connection, database.name()))
                        .containsExactly("account_id", "currency_code", "version");
                assertThat(SchemaScript.journalColumns(connection, database.name()))
                        .contains("leg", "counterparty_account_id");
            }
            assertThat(database.journal()).containsExactly(
                    "42|t1|BTC|DEPOSIT|1.500000000000000000|1.500000000000000000|0.000000000000000000|1|u|d|"
                            + "2026-01-01T00:00:00.123|NONE|null");
        }
    }
}
