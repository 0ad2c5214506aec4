package dev.balance.bench;

import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The engine's ceiling on this machine: the least a stateful balance app can do per record.
 * One persistent (RocksDB, changelogged, uncached) store; per record it reads one balance, checks
 * a withdrawal against it, writes it back and forwards a 16-byte record. The command bytes stay
 * opaque: the amount is their length and the type is their last bit, so no decoding is measured.
 */
final class BaselineTopology {

    static final String STORE = "baseline-balances";

    private BaselineTopology() {
    }

    static Topology build(String inputTopic, String outputTopic, RecordGaps gaps) {
        Topology topology = new Topology();
        topology.addSource("baseline-source", Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer(),
                inputTopic);
        topology.addProcessor("baseline-rules", () -> new BaselineProcessor(gaps), "baseline-source");
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.Bytes(),
                Serdes.ByteArray()).withCachingDisabled(), "baseline-rules");
        topology.addSink("baseline-sink", outputTopic, Serdes.ByteArray().serializer(), Serdes.ByteArray().serializer(),
                "baseline-rules");
        return topology;
    }

    private static final class BaselineProcessor implements Processor<byte[], byte[], byte[], byte[]> {

        private final RecordGaps gaps;
        private ProcessorContext<byte[], byte[]> context;
        private KeyValueStore<Bytes, byte[]> balances;

        BaselineProcessor(RecordGaps gaps) {
            this.gaps = gaps;
        }

        @Override
        public void init(ProcessorContext<byte[], byte[]> context) {
            this.context = context;
            this.balances = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<byte[], byte[]> record) {
            Bytes key = Bytes.wrap(record.key());
            byte[] stored = balances.get(key);
            long balance = stored == null ? 0 : ByteBuffer.wrap(stored).getLong(0);
            long version = stored == null ? 0 : ByteBuffer.wrap(stored).getLong(8);
            byte[] value = record.value();
            long amount = value.length;
            boolean withdraw = (value[value.length - 1] & 1) == 1;
            if (!withdraw) {
                balance += amount;
            } else if (balance >= amount) {
                balance -= amount;
            }
            byte[] updated = ByteBuffer.allocate(16).putLong(balance).putLong(version + 1).array();
            balances.put(key, updated);
            context.forward(record.withValue(updated));
            gaps.tick();
        }
    }
}
