package dev.balance.api.http;

import dev.balance.api.auth.Access;
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
 * A fast lane for the reads that succeed locally: a signed (or, in development mode, plain) GET of
 * one balance, an account's balances or a transaction, whose account this node owns, with no query,
 * is answered here on Jetty's own request, before the servlet layer and the routes. Everything else
 * goes on to the routes of {@link HttpApi} unchanged: another owner (forwarding), {@code
 * allow_stale}, a refused signature, a malformed path, an unknown currency or transaction, a store
 * that moved. Those are answered there, with their errors, metrics and log lines, as before; the
 * lane only decides whether it may answer, never how to refuse. It writes the same body as the
 * route would ({@link QueryRoutes} builds both), the same {@code X-Request-Id}, the same request
 * metric and access line.
 *
 * <p>Why: a read's work is a point lookup and a few hundred bytes; on the routes, the servlet
 * wrappers, sessions, cookies, Javalin's context and task pipeline cost several times that.
 */
final class ReadLane extends Handler.Wrapper {

    static final String BALANCE_ROUTE = "/api/v1/balance/{account_id}/{currency_code}";
    static final String BALANCES_ROUTE = "/api/v1/balance/{account_id}";
    static final String TRANSACTION_ROUTE = "/api/v1/transactions/{account_id}/{transaction_id}";
    private static final String BALANCE_PREFIX = "/api/v1/balance/";
    private static final String TRANSACTION_PREFIX = "/api/v1/transactions/";
    private static final HttpField JSON = new PreEncodedHttpField(HttpHeader.CONTENT_TYPE, "application/json");
    private static final byte[] NO_BODY = new byte[0];

    private final QueryRoutes queries;
    private final AuthGate gate;
    private final Timer balanceTimer;
    private final Timer balancesTimer;
    private final Timer transactionTimer;

    ReadLane(QueryRoutes queries, AuthGate gate, PrometheusMeterRegistry registry) {
        this.queries = queries;
        this.gate = gate;
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
                    int partition = localPartition(request, path, accountId);
                    if (partition >= 0) {
                        return answer(request, response, callback, queries.balancesBody(partition, accountId),
                                balancesTimer, BALANCES_ROUTE, accountId, null, started);
                    }
                } else if (path.indexOf('/', slash + 1) < 0) {
                    long accountId = Validation.parseAccountId(path.substring(BALANCE_PREFIX.length(), slash));
                    String currency = path.substring(slash + 1);
                    if (queries.knownCurrency(currency)) {
                        int partition = localPartition(request, path, accountId);
                        if (partition >= 0) {
                            return answer(request, response, callback, queries.balanceBody(partition, accountId, currency),
                                    balanceTimer, BALANCE_ROUTE, accountId, null, started);
                        }
                    }
                }
            } else if (path.startsWith(TRANSACTION_PREFIX)) {
                int slash = path.indexOf('/', TRANSACTION_PREFIX.length());
                if (slash > 0) {
                    long accountId = Validation.parseAccountId(path.substring(TRANSACTION_PREFIX.length(), slash));
                    String transactionId = path.substring(slash + 1);
                    if (Validation.isTransactionId(transactionId)) {
                        int partition = localPartition(request, path, accountId);
                        if (partition >= 0) {
                            byte[] body = queries.transactionBody(partition, accountId, transactionId);
                            if (body != null) {
                                return answer(request, response, callback, body, transactionTimer, TRANSACTION_ROUTE,
                                        accountId, transactionId, started);
                            }
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

    /**
     * The partition when this node may answer the read itself: a valid account this node owns,
     * asked by a caller whose signature admits a read. Else -1, and the routes take the request.
     */
    private int localPartition(Request request, String path, long accountId) {
        if (accountId <= 0) {
            return -1;
        }
        if (!gate.admits("GET", path, name -> request.getHeaders().get(name), NO_BODY, Access.READ)) {
            return -1;
        }
        return queries.localPartition(accountId);
    }

    private static boolean answer(Request request, Response response, Callback callback, byte[] body, Timer timer,
                                  String route, long accountId, String transactionId, long started) {
        String requestId = RequestLog.requestId(request.getHeaders().get(RequestLog.REQUEST_ID_HEADER));
        response.setStatus(200);
        response.getHeaders().put(JSON);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.getHeaders().put(RequestLog.REQUEST_ID_HEADER, requestId);
        response.write(true, ByteBuffer.wrap(body), callback);
        long elapsed = System.nanoTime() - started;
        timer.record(elapsed, TimeUnit.NANOSECONDS);
        RequestLog.finished("GET", route, 200, elapsed / 1_000_000f, requestId, accountId, transactionId);
        return true;
    }
}
