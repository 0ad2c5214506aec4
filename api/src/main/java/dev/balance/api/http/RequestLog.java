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
        String id = requestId(ctx.header(REQUEST_ID_HEADER));
        ctx.attribute(REQUEST_ID, id);
        ctx.header(REQUEST_ID_HEADER, id);
    }

    /** The caller's id when it is a plain token, else a new one. */
    static String requestId(String given) {
        if (given != null && PLAIN_TOKEN.matcher(given).matches()) {
            return given;
        }
        // A random 64-bit id is plenty to find a request's lines, and unlike UUID.randomUUID() it does not
        // draw on the shared SecureRandom on every request; 16 hex digits, without String.format's parser.
        long random = ThreadLocalRandom.current().nextLong();
        char[] digits = new char[16];
        for (int i = 15; i >= 0; i--) {
            digits[i] = HEX[(int) (random & 0xf)];
            random >>>= 4;
        }
        return new String(digits);
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** Names the change a request is about, for the lines logged about it. */
    public static void change(Context ctx, long accountId, String transactionId) {
        ctx.attribute(ACCOUNT_ID, Long.toString(accountId));
        ctx.attribute(TRANSACTION_ID, transactionId);
    }

    /** One line per finished request. */
    static void finished(Context ctx, String route, float ms) {
        int status = ctx.statusCode();
        if (!enabled(status)) {
            return;
        }
        withIds(ctx, () -> line(ctx.method().name(), route, status, ms));
    }

    /** The same line for a request answered outside the routes ({@link ReadLane}): a 200 read. */
    static void finished(String method, String route, int status, float ms, String requestId, long accountId,
                         String transactionId) {
        if (!enabled(status)) {
            return;
        }
        withIds(requestId, Long.toString(accountId), transactionId, () -> line(method, route, status, ms));
    }

    private static boolean enabled(int status) {
        return status >= 500 ? ACCESS.isWarnEnabled() : status >= 400 ? ACCESS.isInfoEnabled() : ACCESS.isDebugEnabled();
    }

    private static void line(String method, String route, int status, float ms) {
        String format = "{} {} {} in {} ms";
        Object[] args = {method, route, status, String.format("%.1f", ms)};
        if (status >= 500) {
            ACCESS.warn(format, args);
        } else if (status >= 400) {
            ACCESS.info(format, args);
        } else {
            ACCESS.debug(format, args);
        }
    }

    /** Runs {@code logging} with the request's ids in the logging context of this thread. */
    static void withIds(Context ctx, Runnable logging) {
        String account = ctx.attribute(ACCOUNT_ID);
        String transaction = ctx.attribute(TRANSACTION_ID);
        withIds(ctx.attribute(REQUEST_ID), account != null ? account : ctx.pathParamMap().get(ACCOUNT_ID),
                transaction != null ? transaction : ctx.pathParamMap().get(TRANSACTION_ID), logging);
    }

    private static void withIds(String requestId, String accountId, String transactionId, Runnable logging) {
        Map<String, String> before = MDC.getCopyOfContextMap();
        try {
            put(REQUEST_ID, requestId);
            put(ACCOUNT_ID, accountId);
            put(TRANSACTION_ID, transactionId);
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
