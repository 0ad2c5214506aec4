package dev.balance.api.query;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Forwards plain reads to their owner in groups: the reads waiting for one owner go to it as one
 * {@code POST /internal/v1/reads} (one path per line), and its answer is split back into one answer
 * per read. Under load a node-to-node request then carries many reads, so the HTTP work on both
 * nodes (and the forwarding client's) is shared by all of them instead of paid per read.
 *
 * <p>There is no timer: a read is sent at once when fewer than {@link #IN_FLIGHT_PER_OWNER} groups
 * are on their way to its owner, and otherwise goes with the next group, sent as soon as one comes
 * back. An idle node forwards a lone read at once, as before.
 *
 * <p>The owner answers each read it can serve from its own store right away as the single GET
 * would; a read it cannot (not its account any more, a transaction it does not know, a store that
 * moved) comes back marked, and that read alone is forwarded again as a plain GET, whose answer
 * (404, 503 with Retry-After, ...) is then the one relayed. An owner that does not know the
 * internal route (an older version during a rolling upgrade) is asked each read singly. An owner
 * that does not answer fails every read of the group as the single forward would.
 */
public final class ReadBatcher {

    /** The owner's route for a group of reads. */
    public static final String PATH = "/internal/v1/reads";
    /** Groups on their way to one owner at a time. */
    static final int IN_FLIGHT_PER_OWNER = 2;
    /** Reads in one group at most; more wait for the next. */
    public static final int READS_PER_GROUP_MAX = 256;
    /** The mark of a read the owner did not answer from its store: ask it singly. */
    public static final int ASK_SINGLY = 0;

    private final Forwarder forwarder;
    private final ConcurrentHashMap<String, Queue> queues = new ConcurrentHashMap<>();

    public ReadBatcher(Forwarder forwarder) {
        this.forwarder = forwarder;
    }

    /** The owner's answer to {@code GET path} (no query), as {@link Forwarder#forward} would give it. */
    public CompletableFuture<Forwarder.Response> read(String owner, String path) {
        Pending pending = new Pending(path, new CompletableFuture<>());
        Queue queue = queues.computeIfAbsent(owner, Queue::new);
        List<Pending> group;
        synchronized (queue) {
            queue.waiting.add(pending);
            group = queue.takeGroup();
        }
        if (group != null) {
            send(queue, group);
        }
        return pending.answer;
    }

    private record Pending(String path, CompletableFuture<Forwarder.Response> answer) {
    }

    /** The reads waiting for one owner and the groups on their way to it. */
    private static final class Queue {
        final String owner;
        final ArrayDeque<Pending> waiting = new ArrayDeque<>();
        int inFlight;

        Queue(String owner) {
            this.owner = owner;
        }

        /** The next group to send, or null when none may go now; call holding the lock. */
        List<Pending> takeGroup() {
            if (inFlight >= IN_FLIGHT_PER_OWNER || waiting.isEmpty()) {
                return null;
            }
            inFlight++;
            List<Pending> group = new ArrayList<>(Math.min(waiting.size(), READS_PER_GROUP_MAX));
            while (!waiting.isEmpty() && group.size() < READS_PER_GROUP_MAX) {
                group.add(waiting.poll());
            }
            return group;
        }
    }

    private void send(Queue queue, List<Pending> group) {
        StringBuilder body = new StringBuilder(group.size() * 40);
        for (Pending pending : group) {
            body.append(pending.path()).append('\n');
        }
        CompletableFuture<Forwarder.Response> sent;
        try {
            sent = forwarder.forward(queue.owner, "POST", PATH, body.toString().getBytes(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((response, error) -> {
            try {
                answer(queue.owner, group, response, error);
            } finally {
                List<Pending> next;
                synchronized (queue) {
                    queue.inFlight--;
                    next = queue.takeGroup();
                }
                if (next != null) {
                    send(queue, next);
                }
            }
        });
    }

    private void answer(String owner, List<Pending> group, Forwarder.Response response, Throwable error) {
        if (error != null) {
            for (Pending pending : group) {
                pending.answer().completeExceptionally(error);
            }
            return;
        }
        List<Answer> answers = response.status() == 200 ? decode(response.body(), group.size()) : null;
        for (int i = 0; i < group.size(); i++) {
            Pending pending = group.get(i);
            Answer answer = answers == null ? null : answers.get(i);
            if (answer == null || answer.status() == ASK_SINGLY) {
                askSingly(owner, pending);
            } else {
                pending.answer().complete(new Forwarder.Response(answer.status(), answer.body(), null, null));
            }
        }
    }

    private void askSingly(String owner, Pending pending) {
        CompletableFuture<Forwarder.Response> single;
        try {
            single = forwarder.forward(owner, "GET", pending.path(), new byte[0]);
        } catch (RuntimeException e) {
            single = CompletableFuture.failedFuture(e);
        }
        single.whenComplete((response, error) -> {
            if (error != null) {
                pending.answer().completeExceptionally(error);
            } else {
                pending.answer().complete(response);
            }
        });
    }

    /** One read's answer in a group's answer. */
    public record Answer(int status, byte[] body) {
    }

    /**
     * A group's answer: for each read in order, its status and the length of its body on a line of
     * their own ({@code "200 143\n"}), then the body. Status {@link #ASK_SINGLY} has no body.
     */
    public static byte[] encode(List<Answer> answers) {
        int length = 0;
        for (Answer answer : answers) {
            length += 16 + answer.body().length;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(length);
        for (Answer answer : answers) {
            byte[] head = (answer.status() + " " + answer.body().length + "\n").getBytes(StandardCharsets.US_ASCII);
            out.write(head, 0, head.length);
            out.write(answer.body(), 0, answer.body().length);
        }
        return out.toByteArray();
    }

    /** The answers in a group's answer, or null when it is not one of {@code expected} well-formed answers. */
    public static List<Answer> decode(byte[] encoded, int expected) {
        List<Answer> answers = new ArrayList<>(expected);
        int at = 0;
        while (at < encoded.length) {
            int space = indexOf(encoded, (byte) ' ', at);
            int newline = space < 0 ? -1 : indexOf(encoded, (byte) '\n', space);
            if (newline < 0) {
                return null;
            }
            int status = parse(encoded, at, space);
            int length = parse(encoded, space + 1, newline);
            if (status < 0 || length < 0 || newline + 1 + length > encoded.length) {
                return null;
            }
            answers.add(new Answer(status, java.util.Arrays.copyOfRange(encoded, newline + 1, newline + 1 + length)));
            at = newline + 1 + length;
        }
        return answers.size() == expected ? answers : null;
    }

    private static int indexOf(byte[] bytes, byte wanted, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == wanted) {
                return i;
            }
        }
        return -1;
    }

    /** A non-negative decimal of at most 9 digits in {@code bytes[from, to)}, else -1. */
    private static int parse(byte[] bytes, int from, int to) {
        if (to <= from || to - from > 9) {
            return -1;
        }
        int value = 0;
        for (int i = from; i < to; i++) {
            int digit = bytes[i] - '0';
            if (digit < 0 || digit > 9) {
                return -1;
            }
            value = value * 10 + digit;
        }
        return value;
    }
}
