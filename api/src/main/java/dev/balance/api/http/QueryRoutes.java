package dev.balance.api.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.balance.api.query.Forwarder;
import dev.balance.api.query.LocalStores;
import dev.balance.api.query.Owner;
import dev.balance.api.query.Ownership;
import dev.balance.api.query.ReadBatcher;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.Currencies;
import dev.balance.topology.model.Validation;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.Map;

/**
 * The reads: one balance, all balances of an account, one transaction's verdict. Served from
 * this node's store when it owns the account (or holds a standby and the client allows stale
 * reads), otherwise forwarded to the owner once.
 */
public final class QueryRoutes {

    private final Requests requests;
    private final Responses responses;
    private final ObjectMapper mapper;
    private final Currencies currencies;
    private final Ownership ownership;
    private final LocalStores stores;
    private final Forwarder forwarder;
    private final ReadBatcher batcher;
    private static final byte[] BALANCE_PREFIX = "{\"success\":true,\"balance\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BALANCES_PREFIX = "{\"success\":true,\"account_id\":".getBytes(StandardCharsets.US_ASCII);

    public QueryRoutes(Requests requests, Responses responses, ObjectMapper mapper, Currencies currencies,
                       Ownership ownership, LocalStores stores, Forwarder forwarder) {
        this.requests = requests;
        this.responses = responses;
        this.mapper = mapper;
        this.currencies = currencies;
        this.ownership = ownership;
        this.stores = stores;
        this.forwarder = forwarder;
        this.batcher = new ReadBatcher(forwarder);
    }

    public void balance(Context ctx) {
        long accountId = Requests.accountId(ctx, "account_id");
        String currency = ctx.pathParam("currency_code");
        if (!currencies.contains(currency)) {
            throw ApiException.validation("unknown currency", Map.of("currency_code", "is not a registered currency"));
        }
        try {
            Read read = locate(ctx, accountId);
            if (read == null) {
                return;
            }
            if (!read.stale()) {
                HttpApi.write(ctx, 200, balanceBody(read.partition(), accountId, currency));
                return;
            }
            ObjectNode body = mapper.createObjectNode();
            body.put("success", true);
            body.set("balance", responses.balance(accountId, currency,
                    balanceOrZero(read.partition(), accountId, currency, true)));
            read.annotate(body, stores);
            HttpApi.send(ctx, 200, body);
        } catch (ApiException e) {
            staleElsewhere(ctx, e, accountId);
        }
    }

    /**
     * A stale read this node could not serve (a rebalance: owners unknown, its copy moved or not
     * open) is asked of the other nodes that held a copy in the last assignment seen, in turn;
     * anything else, or a read with no such node, fails with {@code failure}. Only for reads sent
     * here by a client: a forwarded one is answered from this node's copy or not at all.
     */
    private void staleElsewhere(Context ctx, ApiException failure, long accountId) {
        if (failure.status() != 503 || !Requests.allowStale(ctx) || requests.forwarded(ctx)) {
            throw failure;
        }
        List<String> copies = ownership.lastKnownCopiesElsewhere(accountId);
        if (copies.isEmpty()) {
            throw failure;
        }
        ctx.future(() -> forwardToAnyCopy(ctx, accountId, copies, 0, pathOf(ctx, accountId) + "?allow_stale=true",
                staleDeadline()));
    }

    /** The answer to a fresh read of one balance from this node's store (the hottest read: text, no tree). */
    byte[] balanceBody(int partition, long accountId, String currency) {
        Balance balance = balanceOrZero(partition, accountId, currency, false);
        return new JsonText(224).append(BALANCE_PREFIX).balance(accountId, currency, balance).append('}').toBytes();
    }

    private Balance balanceOrZero(int partition, long accountId, String currency, boolean stale) {
        Balance balance = stores.balance(partition, accountId, currency, stale);
        return balance != null ? balance : Balance.zero(currencies.scale(currency));
    }

    /** The account's active owner; a 503 ApiException when none is known right now. */
    Owner owner(long accountId) {
        return ownership.activeOwner(accountId);
    }

    /**
     * A plain read asked of its owner, once, as {@link #locate} forwards it, but grouped with the
     * other reads on their way to the same owner ({@link ReadBatcher}).
     */
    java.util.concurrent.CompletableFuture<Forwarder.Response> forward(String owner, String path) {
        return batcher.read(owner, path);
    }

    boolean knownCurrency(String currency) {
        return currencies.contains(currency);
    }

    public void balances(Context ctx) {
        long accountId = Requests.accountId(ctx, "account_id");
        try {
            Read read = locate(ctx, accountId);
            if (read == null) {
                return;
            }
            if (!read.stale()) {
                HttpApi.write(ctx, 200, balancesBody(read.partition(), accountId));
                return;
            }
            HttpApi.send(ctx, 200, balancesBody(read, accountId));
        } catch (ApiException e) {
            staleElsewhere(ctx, e, accountId);
        }
    }

    /** The answer to a fresh read of all balances of an account from this node's store. */
    byte[] balancesBody(int partition, long accountId) {
        // As text: the tree's JSON field for field (ResponsesTest), at a fraction of its cost.
        JsonText body = new JsonText(512).append(BALANCES_PREFIX).append(accountId).append(",\"balances\":[");
        boolean first = true;
        for (LocalStores.CurrencyBalance entry : stores.balances(partition, accountId, false)) {
            if (!first) {
                body.append(',');
            }
            body.balance(accountId, entry.currency(), entry.balance());
            first = false;
        }
        return body.append("]}").toBytes();
    }

    private ObjectNode balancesBody(Read read, long accountId) {
        ObjectNode body = mapper.createObjectNode();
        body.put("success", true);
        body.put("account_id", accountId);
        ArrayNode list = body.putArray("balances");
        for (LocalStores.CurrencyBalance entry : stores.balances(read.partition(), accountId, read.stale())) {
            list.add(responses.balance(accountId, entry.currency(), entry.balance()));
        }
        read.annotate(body, stores);
        return body;
    }

    public void transaction(Context ctx) {
        long accountId = Requests.accountId(ctx, "account_id");
        String transactionId = ctx.pathParam("transaction_id");
        if (!Validation.isTransactionId(transactionId)) {
            throw ApiException.validation("transaction_id is not valid",
                    Map.of("transaction_id", "must be 1-64 characters of [A-Za-z0-9._:-]"));
        }
        ObjectNode body;
        try {
            Read read = locate(ctx, accountId);
            if (read == null) {
                return;
            }
            body = transactionBody(read, accountId, transactionId);
        } catch (ApiException e) {
            staleElsewhere(ctx, e, accountId);
            return;
        }
        if (body == null) {
            throw new ApiException(404, "NOT_FOUND", "no transaction " + transactionId + " on account " + accountId
                    + " (unknown, not decided yet, or past retention)");
        }
        HttpApi.send(ctx, 200, body);
    }

    /** The answer to a fresh read of a transaction from this node's store; null when it is unknown here. */
    byte[] transactionBody(int partition, long accountId, String transactionId) {
        ObjectNode body = transactionBody(new Read(partition, false, false), accountId, transactionId);
        return body == null ? null : body.toString().getBytes(StandardCharsets.UTF_8);
    }

    private ObjectNode transactionBody(Read read, long accountId, String transactionId) {
        BalanceEvent event = stores.transaction(read.partition(), accountId, transactionId, read.stale());
        List<BalanceEvent> legs = stores.legs(read.partition(), accountId, transactionId, read.stale());
        if (event == null && legs.isEmpty()) {
            return null;
        }
        ObjectNode body = mapper.createObjectNode();
        body.put("success", true);
        // The account's own change under this id if there is one, else the first leg it received.
        body.set("transaction", responses.transaction(event != null ? event : legs.get(0)));
        if (!legs.isEmpty()) {
            ArrayNode list = body.putArray("legs");
            for (BalanceEvent leg : legs) {
                list.add(responses.transaction(leg));
            }
        }
        read.annotate(body, stores);
        return body;
    }

    /** Where to read from; null when the request was forwarded and the answer already relayed. */
    private Read locate(Context ctx, long accountId) {
        boolean stale = Requests.allowStale(ctx);
        if (requests.forwarded(ctx)) {
            int partition;
            try {
                partition = ownership.partition(accountId);
            } catch (ApiException e) {
                // A stale read forwarded here during a rebalance: this node's copy still answers it.
                return ownCopy(e, stale, accountId);
            }
            return new Read(partition, stale, stale && !stores.activeHere(partition));
        }
        Owner owner;
        try {
            if (stale && ownership.hostsStandby(accountId)) {
                return new Read(ownership.partition(accountId), true, true);
            }
            owner = ownership.activeOwner(accountId);
        } catch (ApiException e) {
            return ownCopy(e, stale, accountId);
        }
        if (owner instanceof Owner.Local local) {
            if (stale && !stores.activeHere(local.partition())) {
                // Owned here but not served yet (restoring): a standby elsewhere answers sooner.
                List<String> copies = ownership.standbyHosts(accountId);
                if (!copies.isEmpty()) {
                    ctx.future(() -> forwardToAnyCopy(ctx, accountId, copies, 0,
                            pathOf(ctx, accountId) + "?allow_stale=true", staleDeadline()));
                    return null;
                }
            }
            return new Read(local.partition(), stale, false);
        }
        Owner.Remote remote = (Owner.Remote) owner;
        // Only parameters we know travel on; the path was already validated, so the URI is well formed.
        String query = stale ? "?allow_stale=true" : "";
        String path = pathOf(ctx, accountId);
        if (stale) {
            // A stale read may be answered by any copy: when the owner cannot answer (gone, restoring),
            // the nodes holding a standby are asked in turn.
            List<String> copies = new ArrayList<>();
            copies.add(remote.hostPort());
            copies.addAll(ownership.standbyHosts(accountId));
            ctx.future(() -> forwardToAnyCopy(ctx, accountId, copies, 0, path + query, staleDeadline()));
            return null;
        }
        ctx.future(() -> forwarder.forward(remote.hostPort(), "GET", path + query, new byte[0])
                .thenAccept(response -> HttpApi.relay(ctx, response)));
        return null;
    }

    /**
     * During a rebalance the owners are unknown, but a stale read may still come from this node's
     * own copy of the partition (active or standby); anything else fails with {@code unknown}.
     */
    private Read ownCopy(ApiException unknown, boolean stale, long accountId) {
        int partition = stale ? ownership.partitionIfKnown(accountId) : -1;
        if (partition < 0) {
            throw unknown;
        }
        return new Read(partition, true, !stores.activeHere(partition));
    }

    private static String pathOf(Context ctx, long accountId) {
        return ctx.pathParamMap().containsKey("transaction_id")
                ? "/api/v1/transactions/" + accountId + "/" + ctx.pathParam("transaction_id")
                : ctx.pathParamMap().containsKey("currency_code")
                ? "/api/v1/balance/" + accountId + "/" + ctx.pathParam("currency_code")
                : "/api/v1/balance/" + accountId;
    }

    /**
     * How long a stale read keeps asking the copies while every one of them answers 503 (a
     * rebalance moving the partition's stores) before the client gets that 503: a client that
     * allows stale reads wants an answer from any copy, and a move takes about a second.
     */
    static final long STALE_RETRY_BUDGET_MS = 3_000;
    static final long STALE_RETRY_PAUSE_MS = 100;

    private final LongAdder staleRetries = new LongAdder();

    /** Rounds of asking the copies again (see {@link #STALE_RETRY_BUDGET_MS}), since the start. */
    public double staleRetries() {
        return staleRetries.sum();
    }

    private static long staleDeadline() {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STALE_RETRY_BUDGET_MS);
    }

    /**
     * Forwards to each copy in turn until one answers other than 503. When the last one also
     * answers 503 or cannot be reached, the round starts again after a short pause with the copies
     * of the assignment known then, until {@code deadlineNanos}; after that the last answer is
     * relayed.
     */
    private CompletableFuture<Void> forwardToAnyCopy(Context ctx, long accountId, List<String> copies, int index,
                                                     String pathAndQuery, long deadlineNanos) {
        boolean last = index == copies.size() - 1;
        return forwarder.forward(copies.get(index), "GET", pathAndQuery, new byte[0])
                .handle((response, error) -> {
                    boolean unanswered = error != null || response.status() == 503;
                    if (!last && unanswered) {
                        return forwardToAnyCopy(ctx, accountId, copies, index + 1, pathAndQuery, deadlineNanos);
                    }
                    if (unanswered && System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STALE_RETRY_PAUSE_MS)
                            < deadlineNanos) {
                        staleRetries.increment();
                        Executor later = CompletableFuture.delayedExecutor(STALE_RETRY_PAUSE_MS, TimeUnit.MILLISECONDS);
                        return CompletableFuture.supplyAsync(() -> {
                            List<String> now = ownership.lastKnownCopiesElsewhere(accountId);
                            return now.isEmpty() ? copies : now;
                        }, later).thenCompose(next -> forwardToAnyCopy(ctx, accountId, next, 0, pathAndQuery,
                                deadlineNanos));
                    }
                    if (error != null) {
                        return CompletableFuture.<Void>failedFuture(error);
                    }
                    HttpApi.relay(ctx, response);
                    return CompletableFuture.<Void>completedFuture(null);
                })
                .thenCompose(next -> next);
    }

    private record Read(int partition, boolean stale, boolean standby) {
        /** Stale reads report which copy answered and how far it is behind, so the client can judge the answer. */
        void annotate(ObjectNode body, LocalStores stores) {
            if (stale) {
                body.put("stale_allowed", true);
                body.put("served_by", standby ? "standby" : "active");
                body.put("lag_records", stores.lag(partition));
            }
        }
    }
}
