package dev.balance.sink.redis;

import dev.balance.topology.model.BalanceEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * The write path of one batch: keep the newest event per account and currency, then send one
 * guarded write per field in a single pipeline and read every reply. A write either lands or is
 * refused by the guard script because Redis already holds that version or a newer one, so the
 * same batch can be written any number of times with the same result.
 *
 * <p>Not thread-safe: one writer per sink thread.
 */
public final class SnapshotWriter {

    private static final Logger log = LoggerFactory.getLogger(SnapshotWriter.class);
    static final String GUARD_SCRIPT = readScript();
    private static final Long WROTE = 1L;
    private static final Long REFUSED = 0L;

    private final UnifiedJedis redis;
    private final String keyPrefix;
    private String scriptSha;

    public SnapshotWriter(UnifiedJedis redis, String keyPrefix) {
        this.redis = Objects.requireNonNull(redis, "redis");
        this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
    }

    /** The counts of one written batch. */
    public record Outcome(int fieldsSent, int fieldsWritten, int staleSkipped) {
        static final Outcome NOTHING = new Outcome(0, 0, 0);
    }

    /**
     * Writes the balances moved by these events. Events that moved nothing (rejections, replays,
     * conflicts, invalid commands) are ignored.
     *
     * @throws redis.clients.jedis.exceptions.JedisException when Redis cannot be reached or fails;
     *         the caller retries the whole batch, which is safe because every write is guarded
     */
    public Outcome write(List<BalanceEvent> events) {
        Collection<BalanceEvent> newest = newestPerField(events);
        if (newest.isEmpty()) {
            return Outcome.NOTHING;
        }
        if (scriptSha == null) {
            scriptSha = redis.scriptLoad(GUARD_SCRIPT);
        }
        try {
            return pipeline(newest);
        } catch (JedisNoScriptException e) {
            // Redis restarted or its script cache was flushed: load the script again and resend
            // the batch once; the guard makes the resend harmless for writes that did land.
            log.info("Redis no longer knows the guard script (restarted or flushed); loading it again");
            scriptSha = redis.scriptLoad(GUARD_SCRIPT);
            return pipeline(newest);
        }
    }

    /** Collapses the events that moved a balance to the highest version per account and currency. */
    static Collection<BalanceEvent> newestPerField(List<BalanceEvent> events) {
        Map<FieldRef, BalanceEvent> newest = new HashMap<>();
        for (BalanceEvent event : events) {
            if (event.movedBalance()) {
                newest.merge(new FieldRef(event.accountId(), event.currency()), event,
                        (kept, next) -> next.version() > kept.version() ? next : kept);
            }
        }
        return newest.values();
    }

    private Outcome pipeline(Collection<BalanceEvent> newest) {
        List<Response<Object>> replies = new ArrayList<>(newest.size());
        try (AbstractPipeline pipeline = redis.pipelined()) {
            for (BalanceEvent event : newest) {
                replies.add(pipeline.evalsha(scriptSha, List.of(SnapshotValue.key(keyPrefix, event.accountId())),
                        List.of(event.currency(), Long.toString(event.version()), SnapshotValue.of(event).encode())));
            }
            pipeline.sync();
        }
        int written = 0;
        for (Response<Object> reply : replies) {
            // get() rethrows a command's own error, such as NOSCRIPT, after all replies were read.
            Object answer = reply.get();
            if (WROTE.equals(answer)) {
                written++;
            } else if (!REFUSED.equals(answer)) {
                throw new IllegalStateException("guard script answered " + answer + ", expected 0 or 1");
            }
        }
        return new Outcome(newest.size(), written, newest.size() - written);
    }

    private static String readScript() {
        try (InputStream in = SnapshotWriter.class.getResourceAsStream("snapshot-guard.lua")) {
            if (in == null) {
                throw new IllegalStateException("snapshot-guard.lua is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record FieldRef(long accountId, String currency) {
    }
}
