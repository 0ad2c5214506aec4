package dev.balance.topology.codec;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;

class StoreKeysTest {

    @Test
    void balanceKeysOfOneAccountShareItsPrefixAndNoOtherAccountsKeyDoes() {
        Bytes prefix = StoreKeys.balancesOf(42);
        assertThat(startsWith(StoreKeys.balanceKey(42, "BTC"), prefix)).isTrue();
        assertThat(startsWith(StoreKeys.balanceKey(42, "USDT"), prefix)).isTrue();
        assertThat(startsWith(StoreKeys.balanceKey(43, "BTC"), prefix)).isFalse();
        assertThat(startsWith(StoreKeys.transactionKey(42, "BTC"), prefix)).as("a verdict is not a balance").isFalse();
    }

    @Test
    void everyTransactionKeyAndNoBalanceKeyLiesInTheTransactionRange() {
        for (long account : new long[] {1, 42, 0x00FF_FFFF_FFFF_FFFFL, Long.MAX_VALUE}) {
            Bytes transaction = StoreKeys.transactionKey(account, "~~~~");
            assertThat(transaction.compareTo(StoreKeys.firstTransactionKey())).isPositive();
            assertThat(transaction.compareTo(StoreKeys.lastTransactionKey())).isNegative();
            Bytes balance = StoreKeys.balanceKey(account, "ZZZ");
            assertThat(balance.compareTo(StoreKeys.firstTransactionKey())).isNegative();
        }
    }

    @Test
    void keysGiveBackTheirAccountSuffixAndKind() {
        Bytes balance = StoreKeys.balanceKey(Long.MAX_VALUE, "ETH");
        Bytes transaction = StoreKeys.transactionKey(7, "tx-1");
        assertThat(StoreKeys.accountOf(balance)).isEqualTo(Long.MAX_VALUE);
        assertThat(StoreKeys.suffixOf(balance)).isEqualTo("ETH");
        assertThat(StoreKeys.accountOf(transaction)).isEqualTo(7);
        assertThat(StoreKeys.suffixOf(transaction)).isEqualTo("tx-1");
        assertThat(StoreKeys.isBalanceKey(balance)).isTrue();
        assertThat(StoreKeys.isBalanceKey(transaction)).isFalse();
    }

    private static boolean startsWith(Bytes key, Bytes prefix) {
        byte[] k = key.get();
        byte[] p = prefix.get();
        if (k.length < p.length) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            if (k[i] != p[i]) {
                return false;
            }
        }
        return true;
    }
}
