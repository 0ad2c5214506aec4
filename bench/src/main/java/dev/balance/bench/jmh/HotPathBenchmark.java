package dev.balance.bench.jmh;

import dev.balance.topology.codec.Codecs;
import dev.balance.topology.codec.StoreKeys;
import dev.balance.topology.model.Amounts;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Currencies;
import dev.balance.topology.model.Result;
import dev.balance.topology.model.Validation;
import java.math.BigDecimal;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.utils.Bytes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The pure-Java steps the balance processor runs for every record, one benchmark per step, plus
 * {@link #recordPathWithoutStores} which chains them in the processor's order. The decision
 * itself (BalanceProcessor.decide) is package-private in the topology, so the chain uses the
 * rule's result precomputed: it measures everything around the decision, not the BigDecimal
 * arithmetic of the rule (a few additions and comparisons).
 *
 * <p>The command looks like the ones the topology benchmark produces: a 27-character
 * transaction id, a user id, USDT at scale 6.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HotPathBenchmark {

    private final Currencies currencies = Currencies.defaults();
    private ChangeCommand command;
    private byte[] commandBytes;
    private Balance before;
    private byte[] balanceBytes;
    private BalanceEvent event;
    private byte[] eventBytes;

    @Setup
    public void setUp() {
        long account = 734_211L;
        command = new ChangeCommand("tx-2kq9f-9e3c41a07b5d2f18", account, "user-" + account, "USDT",
                ChangeType.WITHDRAW, new BigDecimal("12.345678"), 0L, null, null);
        commandBytes = Codecs.encodeCommand(command);
        before = new Balance(new BigDecimal("1000.000000"), new BigDecimal("25.500000"), 17, 1_700_000_000_000L);
        balanceBytes = Codecs.encodeBalance(before);
        Balance after = new Balance(before.available().subtract(command.amount()), before.frozen(), 18,
                1_700_000_000_500L);
        event = new BalanceEvent(command.transactionId(), account, "USDT", command.type(), command.amount(), 0L,
                Result.APPLIED, false, before.available(), before.frozen(), after.available(), after.frozen(),
                after.version(), after.updatedAtMs(), command.userId(), null, null);
        eventBytes = Codecs.encodeEvent(event);
    }

    @Benchmark
    public ChangeCommand decodeCommand() {
        return Codecs.decodeCommand(commandBytes);
    }

    @Benchmark
    public Map<String, String> validate() {
        return Validation.check(command, currencies);
    }

    @Benchmark
    public BigDecimal amountAtCurrencyScale() {
        return Amounts.check(command.amount(), currencies.scale(command.currency()));
    }

    @Benchmark
    public void storeKeys(Blackhole hole) {
        hole.consume(StoreKeys.transactionKey(command.accountId(), command.transactionId()));
        hole.consume(StoreKeys.balanceKey(command.accountId(), command.currency()));
    }

    @Benchmark
    public Balance decodeBalance() {
        return Codecs.decodeBalance(balanceBytes);
    }

    @Benchmark
    public byte[] encodeBalance() {
        return Codecs.encodeBalance(before);
    }

    @Benchmark
    public byte[] encodeEvent() {
        return Codecs.encodeEvent(event);
    }

    @Benchmark
    public BalanceEvent decodeEvent() {
        return Codecs.decodeEvent(eventBytes);
    }

    /**
     * Every pure step of one record in the processor's order, stores left out: decode, validate,
     * scale the amount, build both keys, read the stored balance, (decide: precomputed), encode
     * the new balance, and encode the event twice, as the processor does (once for the
     * transactions store, once for the output record).
     */
    @Benchmark
    public void recordPathWithoutStores(Blackhole hole) {
        ChangeCommand decoded = Codecs.decodeCommand(commandBytes);
        hole.consume(Validation.check(decoded, currencies));
        hole.consume(Amounts.check(decoded.amount(), currencies.scale(decoded.currency())));
        Bytes transactionKey = StoreKeys.transactionKey(decoded.accountId(), decoded.transactionId());
        Bytes balanceKey = StoreKeys.balanceKey(decoded.accountId(), decoded.currency());
        hole.consume(transactionKey);
        hole.consume(balanceKey);
        hole.consume(Codecs.decodeBalance(balanceBytes));
        hole.consume(Codecs.encodeBalance(event.balanceAfter()));
        hole.consume(Codecs.encodeEvent(event));
        hole.consume(Codecs.encodeEvent(event));
    }
}
