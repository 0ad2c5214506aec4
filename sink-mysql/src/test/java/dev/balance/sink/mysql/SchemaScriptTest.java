package dev.balance.sink.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class SchemaScriptTest {

    @Test
    void shouldRenameOnlyTheDatabaseAndKeepTheTablesAsWritten() {
        List<String> statements = SchemaScript.statementsFor("ledger_test");

        assertThat(statements.get(0)).startsWith("CREATE DATABASE IF NOT EXISTS `ledger_test`");
        assertThat(statements.get(1)).isEqualTo("USE `ledger_test`");
        assertThat(statements).filteredOn(sql -> sql.startsWith("CREATE TABLE IF NOT EXISTS"))
                .hasSize(2)
                .anyMatch(sql -> sql.contains("balances ("))
                .anyMatch(sql -> sql.contains("balance_journal ("));
        assertThat(statements).noneMatch(sql -> sql.contains("--"));
        assertThat(String.join("\n", statements)).doesNotContain(SchemaScript.SCRIPT_DATABASE);
    }

    @Test
    void shouldRefuseADatabaseNameThatIsNotAPlainIdentifier() {
        assertThatThrownBy(() -> SchemaScript.statementsFor("x`; DROP DATABASE y"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
