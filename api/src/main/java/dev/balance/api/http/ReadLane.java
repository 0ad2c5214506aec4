package dev.balance.api.http;

import dev.balance.api.auth.Access;
import dev.balance.api.query.Forwarder;
import dev.balance.api.query.Owner;
import dev.balance.api.query.ReadBatcher;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import dev.balance.topology.model.Validation;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A fast lane for the common reads: a signed (or, in development mode, plain) GET of one balance,
 * an account's balances or a transaction, with no query, is answered here on Jetty's own request,
 * before the servlet layer and the routes: from this node's store when it owns the account, else
 * forwarded once to the owner, grouped with the other reads on their way to it ({@link ReadBatcher}),
 * and its answer relayed. The lane also answers such a group when another node sends one. Everything else goes on to the routes of
 * {@link HttpApi} unchanged: {@code allow_stale}, a refused signature, a malformed path, an unknown
 * currency, a transaction unknown here, a store that moved, an owner not known right now, a
 * request another node forwarded here that this node does not own. Those are answered there, with
 * their errors, metrics and log lines, as before. The lane writes the same bodies as the routes
 * ({@link QueryRoutes} builds both), the same {@code X-Request-Id}, request metric and access line;
 * an owner that does not answer is the same 503 OWNER_UNREACHABLE.
 *
 * <p>Why: a read's work is a point lookup and a few hundred bytes; on the routes, the servlet
 * wrappers, sessions, cookies, Javalin's context, task pipeline and asynchronous answer cost
 * several times that. For the same reason the lane declares itself non-blocking: Jetty then runs
 * it on the thread that selected the connection, and a single read is answered without waking
 * another thread; anything that may block is handed to the pool ({@link #dispatch}).
 */
final class ReadLane extends Handler.Wrapper {

    /** The routes the lane answers for; {@link HttpApi} registers them under these same patterns. */
    static final String BALANCE_ROUTE = "/api/v1/balance/{account_id}/{currency_code}";
    static final String BALANCES_ROUTE = "/api/v1/balance/{account_id}";
    static final String TRANSACTION_ROUTE = "/api/v1/transactions/{account_id}/{transaction_id}";
    private static final String BALANCE_PREFIX = "/api/v1/balance/";
    private static final String TRANSACTION_PREFIX = "/api/v1/transactions/";
    private static final HttpField JSON = new PreEncodedHttpField(HttpHeader.CONTENT_TYPE, "application/json");
    private static final byte[] NO_BODY = new byte[0];

    private final QueryRoutes queries;
    private final AuthGate gate;
    private final Responses responses;
    private final PrometheusMeterRegistry registry;
    private final java.util.Map<String, Timer> timers;
    private final Timer groupTimer;
    private final Timer lookupTimer;
    private final LookupRoutes lookups;
    private final int bodyBytesMax;

    ReadLane(QueryRoutes queries, LookupRoutes lookups, AuthGate gate, Responses responses,
             PrometheusMeterRegistry registry, int bodyBytesMax) {
        this.lookups = lookups;
        this.lookupTimer = HttpApi.requestTimer(registry, "POST", LookupRoutes.LOOKUP_PATH, 200);
        this.queries = queries;
        this.gate = gate;
        this.responses = responses;
        this.registry = registry;
        this.timers = java.util.Map.of(
                BALANCE_ROUTE, HttpApi.requestTimer(registry, "GET", BALANCE_ROUTE, 200),
                BALANCES_ROUTE, HttpApi.requestTimer(registry, "GET", BALANCES_ROUTE, 200),
                TRANSACTION_ROUTE, HttpApi.requestTimer(registry, "GET", TRANSACTION_ROUTE, 200));
        this.groupTimer = HttpApi.requestTimer(registry, "POST", ReadBatcher.PATH, 200);
        this.bodyBytesMax = bodyBytesMax;
    }

    /**
     * Jetty may call this handler on the thread that selects its connections, without handing the
     * request to another thread first: it never blocks. A single read answered from this node's
     * store, or forwarded, is done right there; everything else (a group, a lookup, a change, the
     * routes, which may block) is handed to the server's thread pool first ({@link #dispatch}). A
     * lookup or a group of forwarded reads is answered here too when its body came with it: reading
     * its balances is work, not waiting, and handing it on measured slower.
     */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.NON_BLOCKING;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        long started = System.nanoTime();
        if ("GET".equals(request.getMethod())) {
            HttpURI uri = request.getHttpURI();
            String path = uri.getPath();
            // A GET with a body (which a read does not have, and which a signature would cover) goes on too.
            if (uri.getQuery() == null && path != null && request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH) <= 0
                    && !request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
                try {
                    Read read = Read.of(path, queries);
                    Where where = read == null ? null : where(request, path, read.accountId());
                    if (where != null && where.owner() != null) {
                        return forward(request, response, callback, where.owner(), read, started);
                    }
                    if (where != null) {
                        byte[] body = body(read, where.partition());
                        if (body != null) {
                            return answer(request, response, callback, body, timers.get(read.route()), read, started);
                        }
                    }
                } catch (RuntimeException e) {
                    // A store that moved, an owner not known right now, anything unexpected: the route
                    // asks again and answers it (503, 500) the way it always does.
                }
            }
        }
        if ("POST".equals(request.getMethod()) && ReadBatcher.PATH.equals(request.getHttpURI().getPath())) {
            return group(request, response, callback, started);
        }
        if ("POST".equals(request.getMethod()) && LookupRoutes.LOOKUP_PATH.equals(request.getHttpURI().getPath())) {
            return lookup(request, response, callback, started);
        }
        return dispatch(request, response, callback);
    }

    /**
     * Hands the request to a pool thread, where the handlers behind the lane (a change, the
     * routes) handle it as they would without the lane; a request none of them takes is a 404.
     */
    private boolean dispatch(Request request, Response response, Callback callback) {
        request.getComponents().getThreadPool().execute(() -> {
            try {
                if (!super.handle(request, response, callback)) {
                    Response.writeError(request, response, callback, 404);
                }
            } catch (Throwable e) {
                Response.writeError(request, response, callback, e);
            }
        });
        return true;
    }

    /**
     * A read the lane can take, parsed from its path: the route, the account, and the currency or
     * the transaction; {@code path} is the canonical path the owner is asked.
     */
    record Read(String route, long accountId, String currency, String transactionId, String path) {

        /** The read this path asks for, or null when it is not one the lane takes (a route answers it). */
        static Read of(String path, QueryRoutes queries) {
            if (path.startsWith(BALANCE_PREFIX)) {
                int slash = path.indexOf('/', BALANCE_PREFIX.length());
                if (slash < 0) {
                    long accountId = Validation.parseAccountId(path.substring(BALANCE_PREFIX.length()));
                    return accountId <= 0 ? null
                            : new Read(BALANCES_ROUTE, accountId, null, null, BALANCE_PREFIX + accountId);
                }
                if (path.indexOf('/', slash + 1) < 0) {
                    long accountId = Validation.parseAccountId(path.substring(BALANCE_PREFIX.length(), slash));
                    String currency = path.substring(slash + 1);
                    return accountId <= 0 || !queries.knownCurrency(currency) ? null
                            : new Read(BALANCE_ROUTE, accountId, currency, null, BALANCE_PREFIX + accountId + "/" + currency);
                }
            } else if (path.startsWith(TRANSACTION_PREFIX)) {
                int slash = path.indexOf('/', TRANSACTION_PREFIX.length());
                if (slash > 0) {
                    long accountId = Validation.parseAccountId(path.substring(TRANSACTION_PREFIX.length(), slash));
                    String transactionId = path.substring(slash + 1);
                    return accountId <= 0 || !Validation.isTransactionId(transactionId) ? null
                            : new Read(TRANSACTION_ROUTE, accountId, null, transactionId,
                                    TRANSACTION_PREFIX + accountId + "/" + transactionId);
                }
            }
            return null;
        }
    }

    /** The answer to a read from this node's store of the partition; null when a route must answer it. */
    private byte[] body(Read read, int partition) {
        return switch (read.route()) {
            case BALANCE_ROUTE -> queries.balanceBody(partition, read.accountId(), read.currency());
            case BALANCES_ROUTE -> queries.balancesBody(partition, read.accountId());
            default -> queries.transactionBody(partition, read.accountId(), read.transactionId());
        };
    }

    /**
     * A group of reads another node forwards ({@link ReadBatcher}): signed, its body here with its
     * headers. Anything else (unsigned, a body still on its way) goes on to the route, which answers
     * it the same way or refuses it.
     */
    private boolean group(Request request, Response response, Callback callback, long started) throws Exception {
        ChangeLane.Body read = ChangeLane.Body.of(request, bodyBytesMax);
        if (read.replay() != null) {
            return dispatch(read.replay(), response, callback);
        }
        byte[] body = read.bytes();
        if (!gate.admits("POST", ReadBatcher.PATH, name -> request.getHeaders().get(name), body, Access.READ)) {
            return dispatch(ChangeLane.Body.whole(request, body), response, callback);
        }
        String requestId = RequestLog.requestId(request.getHeaders().get(RequestLog.REQUEST_ID_HEADER));
        write(response, callback, 200, groupAnswer(body), requestId);
        long elapsed = System.nanoTime() - started;
        groupTimer.record(elapsed, TimeUnit.NANOSECONDS);
        RequestLog.finished("POST", ReadBatcher.PATH, 200, elapsed / 1_000_000f, requestId, 0, null);
        return true;
    }

    /**
     * A lookup whose body came with its headers, signed for a read: parsed, its own items read and
     * answered here (with the other owners' items fetched first, as the route does). Anything else,
     * including a body that is not a lookup, goes on to the route, which answers it.
     */
    private boolean lookup(Request request, Response response, Callback callback, long started) throws Exception {
        ChangeLane.Body read = ChangeLane.Body.of(request, bodyBytesMax);
        if (read.replay() != null) {
            return dispatch(read.replay(), response, callback);
        }
        byte[] body = read.bytes();
        AuthGate.Admission admission = gate.admission("POST", LookupRoutes.LOOKUP_PATH,
                name -> request.getHeaders().get(name), body, Access.READ);
        LookupRoutes.Lookup lookup = null;
        if (admission.admitted()) {
            // As the route decides it: forwarded only when another node (its key, once keys exist) says so.
            boolean forwarded = request.getHeaders().contains(Forwarder.FORWARDED_HEADER)
                    && (!gate.enabled() || (admission.caller() != null && admission.caller().isNode()));
            try {
                lookup = lookups.prepare(body, forwarded);
            } catch (ApiException e) {
                // Not a lookup: the route answers it with its error.
            }
        }
        if (lookup == null) {
            return dispatch(ChangeLane.Body.whole(request, body), response, callback);
        }
        String requestId = RequestLog.requestId(request.getHeaders().get(RequestLog.REQUEST_ID_HEADER));
        if (lookup.done()) {
            lookupAnswered(response, callback, lookup.answer(), requestId, started);
            return true;
        }
        lookup.fetch().whenComplete((answer, error) -> {
            if (error != null) {
                callback.failed(error);
            } else {
                lookupAnswered(response, callback, answer, requestId, started);
            }
        });
        return true;
    }

    private void lookupAnswered(Response response, Callback callback, byte[] answer, String requestId, long started) {
        try {
            write(response, callback, 200, answer, requestId);
            long elapsed = System.nanoTime() - started;
            lookupTimer.record(elapsed, TimeUnit.NANOSECONDS);
            RequestLog.finished("POST", LookupRoutes.LOOKUP_PATH, 200, elapsed / 1_000_000f, requestId, 0, null);
        } catch (RuntimeException e) {
            callback.failed(e);
        }
    }

    /**
     * The answer to a group of reads (one path per line): each read this node owns and can answer
     * from its store, answered as its GET would be; the others marked {@link ReadBatcher#ASK_SINGLY}.
     */
    byte[] groupAnswer(byte[] body) {
        String[] paths = new String(body, StandardCharsets.UTF_8).split("\n");
        if (paths.length > ReadBatcher.READS_PER_GROUP_MAX) {
            throw new ApiException(413, "GROUP_TOO_LARGE", "a group holds at most " + ReadBatcher.READS_PER_GROUP_MAX
                    + " reads", java.util.Map.of(), null);
        }
        List<ReadBatcher.Answer> answers = new ArrayList<>(paths.length);
        for (String path : paths) {
            byte[] answer = null;
            try {
                Read read = Read.of(path, queries);
                if (read != null && queries.owner(read.accountId()) instanceof Owner.Local local) {
                    answer = body(read, local.partition());
                }
            } catch (RuntimeException e) {
                // Asked singly, the owner answers it through the routes (a 503 while the store moves).
            }
            answers.add(answer == null ? new ReadBatcher.Answer(ReadBatcher.ASK_SINGLY, NO_BODY)
                    : new ReadBatcher.Answer(200, answer));
        }
        return ReadBatcher.encode(answers);
    }

    /** Where a read is answered: from this node's partition, or by the owner it is forwarded to. */
    private record Where(int partition, String owner) {
    }

    /**
     * Where this lane may take the read: a valid account, asked by a caller whose signature admits
     * a read, owned here or (unless the request was itself forwarded: never twice) by a known
     * other node. Null leaves the request to the routes.
     */
    private Where where(Request request, String path, long accountId) {
        if (accountId <= 0) {
            return null;
        }
        if (!gate.admits("GET", path, name -> request.getHeaders().get(name), NO_BODY, Access.READ)) {
            return null;
        }
        Owner owner = queries.owner(accountId);
        if (owner instanceof Owner.Local local) {
            return new Where(local.partition(), null);
        }
        if (request.getHeaders().contains(Forwarder.FORWARDED_HEADER)) {
            return null;
        }
        return new Where(-1, ((Owner.Remote) owner).hostPort());
    }

    /**
     * Asks the owner and relays its answer (status, body, Location, Retry-After) as the routes
     * would; an owner that does not answer is a 503 OWNER_UNREACHABLE with Retry-After.
     */
    private boolean forward(Request request, Response response, Callback callback, String owner, Read read,
                            long started) {
        String route = read.route();
        long accountId = read.accountId();
        String transactionId = read.transactionId();
        String requestId = RequestLog.requestId(request.getHeaders().get(RequestLog.REQUEST_ID_HEADER));
        queries.forward(owner, read.path()).whenComplete((answer, error) -> {
            try {
                int status;
                byte[] body;
                if (error == null) {
                    status = answer.status();
                    body = answer.body();
                    if (answer.location() != null) {
                        response.getHeaders().put(HttpHeader.LOCATION, answer.location());
                    }
                    if (answer.retryAfter() != null) {
                        response.getHeaders().put(HttpHeader.RETRY_AFTER, answer.retryAfter());
                    }
                } else {
                    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                            ? error.getCause() : error;
                    ApiException refusal = cause instanceof ApiException api ? api
                            : new ApiException(503, "OWNER_UNREACHABLE", "the node owning this account (" + owner
                                    + ") did not answer", java.util.Map.of(), 1);
                    Responses.Rendered rendered = responses.error(refusal);
                    status = rendered.status();
                    body = rendered.body().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    if (refusal.retryAfterS() != null) {
                        response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(refusal.retryAfterS()));
                    }
                }
                write(response, callback, status, body, requestId);
                long elapsed = System.nanoTime() - started;
                HttpApi.requestTimer(registry, "GET", route, status).record(elapsed, TimeUnit.NANOSECONDS);
                RequestLog.finished("GET", route, status, elapsed / 1_000_000f, requestId, accountId, transactionId);
            } catch (RuntimeException e) {
                callback.failed(e);
            }
        });
        return true;
    }

    /** Writes a whole JSON answer with its length and request id; {@link ChangeLane} answers the same way. */
    static void write(Response response, Callback callback, int status, byte[] body, String requestId) {
        response.setStatus(status);
        response.getHeaders().put(JSON);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.getHeaders().put(RequestLog.REQUEST_ID_HEADER, requestId);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private static boolean answer(Request request, Response response, Callback callback, byte[] body, Timer timer,
                                  Read read, long started) {
        String route = read.route();
        long accountId = read.accountId();
        String transactionId = read.transactionId();
        String requestId = RequestLog.requestId(request.getHeaders().get(RequestLog.REQUEST_ID_HEADER));
        write(response, callback, 200, body, requestId);
        long elapsed = System.nanoTime() - started;
        timer.record(elapsed, TimeUnit.NANOSECONDS);
        RequestLog.finished("GET", route, 200, elapsed / 1_000_000f, requestId, accountId, transactionId);
        return true;
    }
}
