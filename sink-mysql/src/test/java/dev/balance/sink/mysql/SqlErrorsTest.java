package dev.balance.sink.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class SqlErrorsTest {

    @Test
    void shouldTreatDataExceptionsAndConstraintViolationsAsDataErrors() {
        assertThat(SqlErrors.isDataError(new SQLException("Data too long", "22001"))).isTrue();
        assertThat(SqlErrors.isDataError(new SQLException("Out of range", "22003"))).isTrue();
        assertThat(SqlErrors.isDataError(new SQLException("Cannot be null", "23000"))).isTrue();
        assertThat(SqlErrors.isDataError(new BatchUpdateException("batch", "22001", new int[0]))).isTrue();
    }

    @Test
    void shouldTreatLostConnectionsTimeoutsAndDeadlocksAsRetryable() {
        assertThat(SqlErrors.isDataError(new SQLException("link failure", "08S01"))).isFalse();
        assertThat(SqlErrors.isDataError(new SQLTransientConnectionException("pool timed out"))).isFalse();
        assertThat(SqlErrors.isDataError(new SQLException("Deadlock found", "40001"))).isFalse();
        assertThat(SqlErrors.isDataError(new SQLException("Unknown table", "42S02"))).isFalse();
    }

    @Test
    void shouldFindADataErrorBehindAWrapper() {
        SQLException wrapper = new SQLException("batch failed", "HY000", new SQLException("too long", "22001"));

        assertThat(SqlErrors.isDataError(wrapper)).isTrue();
    }
}
