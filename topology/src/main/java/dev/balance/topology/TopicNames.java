package dev.balance.topology;

import java.util.List;
import java.util.Objects;

/**
 * The topics of one deployment. Defaults are those of DESIGN §3; tests give each run its own
 * names so runs on one broker never see each other's records.
 *
 * @param changes   input commands, key = account id
 * @param events    outcome events, key = account id
 * @param dlq       records that could not be parsed or processed
 *
 * <p>There is no topic of its own for the credit legs of transfers: they go back into
 * {@code changes}, so each task reads all of its input from one log in one order (see
 * BalanceProcessor#LEGS_CHILD).
 */
public record TopicNames(String changes, String events, String dlq) {

    public TopicNames {
        Objects.requireNonNull(changes, "changes");
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(dlq, "dlq");
    }

    public static TopicNames defaults() {
        return withPrefix("");
    }

    /** The default names behind a prefix, e.g. {@code "test1-balance-changes"}. */
    public static TopicNames withPrefix(String prefix) {
        return new TopicNames(prefix + "balance-changes", prefix + "balance-events", prefix + "balance-dlq");
    }

    public List<String> all() {
        return List.of(changes, events, dlq);
    }
}
