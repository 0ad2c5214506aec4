package dev.balance.sink.mysql;

import java.sql.SQLException;

/**
 * Sorts database failures into the two kinds the sink treats differently. A data error is about
 * the rows (SQLSTATE class 22, data exception, or 23, integrity constraint violation): writing
 * the same rows again fails again, so the batch is split to find the rows that can never be
 * written. Everything else (connection lost, server restarting, lock timeouts, deadlocks) says
 * nothing about the rows: the same batch is retried after a backoff and never skipped.
 */
final class SqlErrors {

    private SqlErrors() {
    }

    static boolean isDataError(SQLException error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && isDataState(sql.getSQLState())) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        SQLException next = error.getNextException();
        return next != null && next != error && isDataState(next.getSQLState());
    }

    private static boolean isDataState(String sqlState) {
        return sqlState != null && (sqlState.startsWith("22") || sqlState.startsWith("23"));
    }
}
