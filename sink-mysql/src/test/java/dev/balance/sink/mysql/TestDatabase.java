package dev.balance.sink.mysql;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A database of its own on the shared test server (127.0.0.1:3306, root, no password), so tests
 * running beside other engineers' tests never see each other's rows. The sink creates it; the
 * test drops it.
 */
final class TestDatabase implements AutoCloseable {

    static final String HOST = "127.0.0.1";
    static final int PORT = 3306;
    static final String USER = "root";
    static final String PASSWORD = "";

    private final String name;

    private TestDatabase(String name) {
        this.name = name;
    }

    static TestDatabase random() {
        return new TestDatabase("sink_mysql_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    }

    String name() {
        return name;
    }

    String url() {
        return urlThrough(PORT);
    }

    /** The URL of this database reached through another port, such as a proxy's. */
    String urlThrough(int port) {
        return "jdbc:mysql://" + HOST + ":" + port + "/" + name;
    }

    /** Every balance row as text, in key order: account|currency|available|frozen|version|updated_at. */
    List<String> balances() {
        return query("SELECT account_id, currency_code, available, frozen, version, updated_at FROM balances"
                + " ORDER BY account_id, currency_code", 6);
    }

    /** Every journal row as text, in key order (account, currency, version), every column. */
    List<String> journal() {
        return query("SELECT account_id, transaction_id, currency_code, type, amount, available_after, frozen_after,"
                + " version, user_id, description, created_at, leg, counterparty_account_id FROM balance_journal"
                + " ORDER BY account_id, currency_code, version", 13);
    }

    long count(String table) {
        List<String> rows = query("SELECT COUNT(*) FROM " + table, 1);
        return Long.parseLong(rows.get(0));
    }

    boolean exists() {
        return !query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" + name + "'", 1)
                .isEmpty();
    }

    private List<String> query(String sql, int columns) {
        try (Connection connection = DriverManager.getConnection(serverUrl(), USER, PASSWORD);
             Statement statement = connection.createStatement()) {
            if (!sql.contains("information_schema")) {
                statement.execute("USE `" + name + "`");
            }
            List<String> rows = new ArrayList<>();
            try (ResultSet result = statement.executeQuery(sql)) {
                while (result.next()) {
                    rows.add(row(result, columns));
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("query failed: " + sql, e);
        }
    }

    private static String row(ResultSet result, int columns) throws SQLException {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= columns; i++) {
            if (i > 1) {
                row.append('|');
            }
            row.append(text(result.getObject(i)));
        }
        return row.toString();
    }

    /** Decimals compared at the column's scale, times as UTC wall clock, nulls as "null". */
    static String text(Object value) {
        if (value instanceof BigDecimal decimal) {
            return decimal.setScale(18).toPlainString();
        }
        if (value instanceof LocalDateTime time) {
            return time.toString();
        }
        if (value instanceof java.sql.Timestamp timestamp) {
            return timestamp.toLocalDateTime().toString();
        }
        return String.valueOf(value);
    }

    private static String serverUrl() {
        return "jdbc:mysql://" + HOST + ":" + PORT + "/";
    }

    @Override
    public void close() {
        try (Connection connection = DriverManager.getConnection(serverUrl(), USER, PASSWORD);
             Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS `" + name + "`");
        } catch (SQLException e) {
            throw new IllegalStateException("could not drop test database " + name, e);
        }
    }
}
