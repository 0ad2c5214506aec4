package dev.balance.sink.mysql;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The schema of {@code scripts/init-mysql.sql}, which the build copies next to this class so the
 * file stays the only copy of the DDL. The script names the database {@code balance_system}; the
 * sink runs it for the database of its configuration by renaming it in the statements that name
 * a database (CREATE DATABASE and USE). Every statement is idempotent.
 *
 * <p>Then it migrates a journal made by an earlier release, which CREATE TABLE IF NOT EXISTS
 * leaves as it was: it adds the leg columns and replaces the primary key ((account_id,
 * transaction_id) or (account_id, currency_code, version)) by an auto-increment journal_id, which
 * numbers the existing rows in their old key order. It runs under a named lock (GET_LOCK,
 * on MySQL 8 and MariaDB), without a socket timeout, and each step first reads the table's shape
 * from information_schema, so a second run, or a second sink starting at the same time, waits and
 * then does nothing. Existing rows keep their values; their leg reads NONE.
 */
final class SchemaScript {

    static final String RESOURCE = "init-mysql.sql";
    static final String SCRIPT_DATABASE = "balance_system";
    private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z0-9_$]{1,64}");
    private static final Pattern SCRIPT_DATABASE_WORD = Pattern.compile("\\b" + SCRIPT_DATABASE + "\\b");

    private SchemaScript() {
    }

    /** The statements of the script, comments dropped, for the given database. */
    static List<String> statementsFor(String database) {
        if (!DATABASE_NAME.matcher(database).matches()) {
            throw new IllegalArgumentException("database name must match " + DATABASE_NAME + ", got " + database);
        }
        List<String> statements = new ArrayList<>();
        for (String statement : split(read())) {
            statements.add(namesDatabase(statement)
                    ? SCRIPT_DATABASE_WORD.matcher(statement).replaceAll("`" + database + "`")
                    : statement);
        }
        return statements;
    }

    /** Creates the database if missing and applies every statement, over one plain connection. */
    static void apply(MysqlSinkConfig config) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", config.mysqlUser());
        props.setProperty("password", config.mysqlPassword());
        props.setProperty("connectTimeout", Long.toString(config.connectTimeoutMs()));
        props.setProperty("socketTimeout", Long.toString(config.socketTimeoutMs()));
        try (Connection connection = DriverManager.getConnection(config.serverUrl(), props);
             Statement statement = connection.createStatement()) {
            for (String sql : statementsFor(config.databaseName())) {
                statement.execute(sql);
            }
            migrateJournal(connection, config.databaseName());
        }
    }

    static final List<String> JOURNAL_KEY = List.of("journal_id");

    /** How long a sink waits for another one that migrates the journal at the same time. */
    private static final int MIGRATION_LOCK_WAIT_S = 3_600;

    private static void migrateJournal(Connection connection, String database) throws SQLException {
        if (journalColumns(connection, database).contains("leg") && journalKey(connection, database).equals(JOURNAL_KEY)) {
            return;
        }
        // Rebuilding a large journal takes longer than the sink's socket timeout: no timeout while it
        // runs. And one sink migrates while any other waits, then finds the work done, instead of two
        // sinks rebuilding the table one after the other.
        connection.setNetworkTimeout(Runnable::run, 0);
        String named = "balance_journal_migration_" + database;
        // Lock names are at most 64 characters on MySQL 8.
        String lock = named.length() <= 64 ? named : named.substring(0, 64);
        try (java.sql.PreparedStatement acquire = connection.prepareStatement("SELECT GET_LOCK(?, ?)")) {
            acquire.setString(1, lock);
            acquire.setInt(2, MIGRATION_LOCK_WAIT_S);
            try (java.sql.ResultSet result = acquire.executeQuery()) {
                if (!result.next() || result.getInt(1) != 1) {
                    throw new SQLException("could not take the journal migration lock " + lock);
                }
            }
        }
        try {
            migrateJournalLocked(connection, database);
        } finally {
            try (java.sql.PreparedStatement release = connection.prepareStatement("SELECT RELEASE_LOCK(?)")) {
                release.setString(1, lock);
                release.executeQuery().close();
            }
        }
    }

    private static void migrateJournalLocked(Connection connection, String database) throws SQLException {
        String table = "`" + database + "`.balance_journal";
        if (!journalColumns(connection, database).contains("leg")) {
            alterUnlessDone(connection, "ALTER TABLE " + table
                            + " ADD COLUMN leg VARCHAR(8) NOT NULL DEFAULT 'NONE',"
                            + " ADD COLUMN counterparty_account_id BIGINT NULL",
                    () -> journalColumns(connection, database).contains("leg"));
        }
        if (!journalKey(connection, database).equals(JOURNAL_KEY)) {
            alterUnlessDone(connection, "ALTER TABLE " + table + " DROP PRIMARY KEY,"
                            + " ADD COLUMN journal_id BIGINT NOT NULL AUTO_INCREMENT FIRST, ADD PRIMARY KEY (journal_id)",
                    () -> journalKey(connection, database).equals(JOURNAL_KEY));
        }
    }

    private interface Check {
        boolean done() throws SQLException;
    }

    private static void alterUnlessDone(Connection connection, String sql, Check done) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            if (!done.done()) {
                throw e;
            }
        }
    }

    static List<String> journalColumns(Connection connection, String database) throws SQLException {
        return strings(connection, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?"
                + " AND TABLE_NAME = 'balance_journal' ORDER BY ORDINAL_POSITION", database);
    }

    static List<String> journalKey(Connection connection, String database) throws SQLException {
        return strings(connection, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ?"
                + " AND TABLE_NAME = 'balance_journal' AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
                database);
    }

    private static List<String> strings(Connection connection, String sql, String parameter) throws SQLException {
        List<String> values = new ArrayList<>();
        try (java.sql.PreparedStatement query = connection.prepareStatement(sql)) {
            query.setString(1, parameter);
            try (java.sql.ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    values.add(rows.getString(1).toLowerCase(java.util.Locale.ROOT));
                }
            }
        }
        return values;
    }

    static List<String> split(String script) {
        StringBuilder text = new StringBuilder();
        for (String line : script.split("\n")) {
            String trimmed = line.strip();
            if (!trimmed.startsWith("--")) {
                text.append(line).append('\n');
            }
        }
        List<String> statements = new ArrayList<>();
        // The script holds no string literals with semicolons, so a semicolon ends a statement.
        for (String part : text.toString().split(";")) {
            String statement = part.strip();
            if (!statement.isEmpty()) {
                statements.add(statement);
            }
        }
        return statements;
    }

    private static boolean namesDatabase(String statement) {
        String upper = statement.toUpperCase(java.util.Locale.ROOT);
        return upper.startsWith("CREATE DATABASE") || upper.startsWith("USE ");
    }

    private static String read() {
        try (InputStream in = SchemaScript.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("schema resource " + RESOURCE + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
