package dev.balance.api.http;

import dev.balance.api.auth.Access;
import dev.balance.api.query.Forwarder;
import dev.balance.api.query.Owner;
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
 * forwarded once to the owner and its answer relayed. Everything else goes on to the routes of
 * {@link HttpApi} unchanged: {@code allow_stale}, a refused signature, a malformed path, an unknown
 * currency, a transaction unknown here, a store that moved, an owner not known right now, a
 * request another node forwarded here that this node does not own. Those are answered there, with
 * their errors, metrics and log lines, as before. The lane writes the same bodies as the routes
 * ({@link QueryRoutes} builds both), the same {@code X-Request-Id}, request metric and access line;
 * an owner that does not answer is the same 503 OWNER_UNREACHABLE.
 *
 * <p>Why: a read's work is a point lookup and a few hundred bytes; on the routes, the servlet
 * wrappers, sessions, cookies, Javalin's context, task pipeline and asynchronous answer cost
 * several times that.
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
    private final Timer balanceTimer;
    private final Timer balancesTimer;
    private final Timer transactionTimer;

    ReadLane(QueryRoutes queries, AuthGate gate, Responses responses, PrometheusMeterRegistry registry) {
        this.queries = queries;
        this.gate = gate;
        this.responses = responses;
        this.registry = registry;
        this.balanceTimer = HttpApi.requestTimer(registry, "GET", BALANCE_ROUTE, 200);
        this.balancesTimer = HttpApi.requestTimer(registry, "GET", BALANCES_ROUTE, 200);
        this.transactionTimer = HttpApi.requestTimer(registry, "GET", TRANSACTION_ROUTE, 200);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        long started = System.nanoTime();
        if (!"GET".equals(request.getMethod())) {
            return super.handle(request, response, callback);
        }
        HttpURI uri = request.getHttpURI();
        String path = uri.getPath();
        // A GET with a body (which a read does not have, and which a signature would cover) goes on too.
        if (uri.getQuery() != null || path == null || request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH) > 0
                || request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
            return super.handle(request, response, callback);
        }
        try {
            if (path.startsWith(BALANCE_PREFIX)) {
                int slash = path.indexOf('/', BALANCE_PREFIX.length());
                if (slash < 0) {
                    long accountId = Validation.parseAccountId(path.substring(BALANCE_PREFIX.length()));
                    Where where = where(request, path, accountId);
                    if (where != null && where.owner() != null) {
                        return forward(request, response, callback, where.owner(), BALANCE_PREFIX + accountId,
                                BALANCES_ROUTE, accountId, null, started);
                    }
                    if (where != null) {
                        return answer(request, response, callback, queries.balancesBody(where.partition(), accountId),
                                balancesTimer, BALANCES_ROUTE, accountId, null, started);
                    }
                } else if (path.indexOf('/', slash + 1) < 0) {
                    long accountId = Validation.parseAccountId(path.substring(BALANCE_PREFIX.length(), slash));
                    String currency = path.substring(slash + 1);
                    Where where = queries.knownCurrency(currency) ? where(request, path, accountId) : null;
                    if (where != null && where.owner() != null) {
                        return forward(request, response, callback, where.owner(),
                                BALANCE_PREFIX + accountId + "/" + currency, BALANCE_ROUTE, accountId, null, started);
                    }
                    if (where != null) {
                        return answer(request, response, callback,
                                queries.balanceBody(where.partition(), accountId, currency), balanceTimer, BALANCE_ROUTE,
                                accountId, null, started);
                    }
                }
            } else if (path.startsWith(TRANSACTION_PREFIX)) {
                int slash = path.indexOf('/', TRANSACTION_PREFIX.length());
                if (slash > 0) {
                    long accountId = Validation.parseAccountId(path.substring(TRANSACTION_PREFIX.length(), slash));
                    String transactionId = path.substring(slash + 1);
                    Where where = Validation.isTransactionId(transactionId) ? where(request, path, accountId) : null;
                    if (where != null && where.owner() != null) {
                        return forward(request, response, callback, where.owner(),
                                TRANSACTION_PREFIX + accountId + "/" + transactionId, TRANSACTION_ROUTE, accountId,
                                transactionId, started);
                    }
                    if (where != null) {
                        byte[] body = queries.transactionBody(where.partition(), accountId, transactionId);
                        if (body != null) {
                            return answer(request, response, callback, body, transactionTimer, TRANSACTION_ROUTE,
                                    accountId, transactionId, started);
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            // A store that moved, an owner not known right now, anything unexpected: the route
            // asks again and answers it (503, 500) the way it always does.
        }
        return super.handle(request, response, callback);
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
    private boolean forward(Request request, Response response, Callback callback, String owner, String ownerPath,
                            String route, long accountId, String transactionId, long started) {
        String requestId = RequestLog.requestId(request.getHeaders().get(RequestLog.REQUEST_ID_HEADER));
        queries.forward(owner, ownerPath).whenComplete((answer, error) -> {
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
                                  String route, long accountId, String transactionId, long started) {
        String requestId = RequestLog.requestId(request.getHeaders().get(RequestLog.REQUEST_ID_HEADER));
        write(response, callback, 200, body, requestId);
        long elapsed = System.nanoTime() - started;
        timer.record(elapsed, TimeUnit.NANOSECONDS);
        RequestLog.finished("GET", route, 200, elapsed / 1_000_000f, requestId, accountId, transactionId);
        return true;
    }
}
