package dev.balance.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ResidentMemoryTest {

    @Test
    void vmRssIsReadInKibibytesAndGivenInBytes() {
        String status = "Name:\tjava\nVmHWM:\t  900000 kB\nVmRSS:\t  812344 kB\nRssAnon:\t  700000 kB\n";

        assertThat(ResidentMemory.vmRssBytes(status)).isEqualTo(812_344L * 1024);
    }

    @Test
    void aStatusWithoutVmRssIsRefusedRatherThanReadAsZero() {
        assertThatThrownBy(() -> ResidentMemory.vmRssBytes("Name:\tkthreadd\nState:\tS (sleeping)\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no VmRSS");
    }

    @Test
    void aVmRssInAnotherUnitIsRefused() {
        assertThatThrownBy(() -> ResidentMemory.vmRssBytes("VmRSS:\t  812 MB\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unexpected VmRSS");
    }

    @Test
    void thisProcessHasAResidentSizeOfAtLeastItsUsedHeap() {
        Runtime runtime = Runtime.getRuntime();
        long usedHeap = runtime.totalMemory() - runtime.freeMemory();

        assertThat(ResidentMemory.ofProcess(ProcessHandle.current().pid())).isGreaterThan(usedHeap / 2);
    }
}
