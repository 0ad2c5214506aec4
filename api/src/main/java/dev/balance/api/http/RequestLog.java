package dev.balance.api.http;

import io.javalin.http.Context;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Ties log lines to requests: every request gets an id (the caller's {@code X-Request-Id} when it
 * is a plain token, else a new one), sent back in the same header; the account and transaction of
 * a change are added once its body is parsed. Each finished request is one line of the logger
 * {@code dev.balance.api.http.access}: 5xx at WARN, 4xx at INFO, the rest at DEBUG. Lines carry the
 * ids as fields (request_id, account_id, transaction_id), never bodies, signatures or secrets.
 */
public final class RequestLog {

    public static final String REQUEST_ID_HEADER = "X-Request-Id";
    private static final Logger ACCESS = LoggerFactory.getLogger("dev.balance.api.http.access");
    private static final Pattern PLAIN_TOKEN = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final String REQUEST_ID = "request_id";
    private static final String ACCOUNT_ID = "account_id";
    private static final String TRANSACTION_ID = "transaction_id";

    private RequestLog() {
    }

    /** Runs first on every request. */
    static void start(Context ctx) {
        String given = ctx.header(REQUEST_ID_HEADER);
        // A random 64-bit id is plenty to find a request's lines, and unlike UUID.randomUUID() it does not
        // draw on the shared SecureRandom on every request.
        String id = given != null && PLAIN_TOKEN.matcher(given).matches() ? given
                : String.format("%016x", ThreadLocalRandom.current().nextLong());
        ctx.attribute(REQUEST_ID, id);
        ctx.header(REQUEST_ID_HEADER, id);
    }

    /** Names the change a request is about, for the lines logged about it. */
    public static void change(Context ctx, long accountId, String transactionId) {
        ctx.attribute(ACCOUNT_ID, Long.toString(accountId));
        ctx.attribute(TRANSACTION_ID, transactionId);
    }

    /** One line per finished request. */
    static void finished(Context ctx, String route, float ms) {
        int status = ctx.statusCode();
        boolean enabled = status >= 500 ? ACCESS.isWarnEnabled() : status >= 400 ? ACCESS.isInfoEnabled() : ACCESS.isDebugEnabled();
        if (!enabled) {
            return;
        }
        withIds(ctx, () -> {
            String format = "{} {} {} in {} ms";
            Object[] args = {ctx.method().name(), route, status, String.format("%.1f", ms)};
            if (status >= 500) {
                ACCESS.warn(format, args);
            } else if (status >= 400) {
                ACCESS.info(format, args);
            } else {
                ACCESS.debug(format, args);
            }
        });
    }

    /** Runs {@code logging} with the request's ids in the logging context of this thread. */
    static void withIds(Context ctx, Runnable logging) {
        Map<String, String> before = MDC.getCopyOfContextMap();
        try {
            put(REQUEST_ID, ctx.attribute(REQUEST_ID));
            String account = ctx.attribute(ACCOUNT_ID);
            put(ACCOUNT_ID, account != null ? account : ctx.pathParamMap().get(ACCOUNT_ID));
            String transaction = ctx.attribute(TRANSACTION_ID);
            put(TRANSACTION_ID, transaction != null ? transaction : ctx.pathParamMap().get(TRANSACTION_ID));
            logging.run();
        } finally {
            if (before == null) {
                MDC.clear();
            } else {
                MDC.setContextMap(before);
            }
        }
    }

    private static void put(String key, String value) {
        if (value != null) {
            MDC.put(key, value);
        }
    }
}
