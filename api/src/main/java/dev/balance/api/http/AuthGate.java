package dev.balance.api.http;

import dev.balance.api.auth.Access;
import dev.balance.api.auth.Authenticator;
import dev.balance.api.auth.Caller;
import io.javalin.http.Context;
import io.javalin.security.RouteRole;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs before every matched route: checks the signature against the {@link Access} the route
 * declared and leaves the {@link Caller} on the request. Every refusal is the same 401 (the reason
 * goes to a metric and a debug line, never to the client); a valid key without the right is 403.
 * A route that declared nothing is treated as {@link Access#WRITE}, so a forgotten declaration
 * fails closed.
 */
public final class AuthGate {

    private static final Logger LOG = LoggerFactory.getLogger(AuthGate.class);
    private static final String CALLER_ATTRIBUTE = "balance.caller";

    private final Authenticator authenticator;
    private final LongSupplier clockMs;
    private final Map<Authenticator.Refusal, Counter> refused = new EnumMap<>(Authenticator.Refusal.class);

    /** @param authenticator null in development mode: every request passes unsigned */
    public AuthGate(Authenticator authenticator, LongSupplier clockMs, MeterRegistry registry) {
        this.authenticator = authenticator;
        this.clockMs = clockMs;
        for (Authenticator.Refusal reason : Authenticator.Refusal.values()) {
            refused.put(reason, Counter.builder("balance_auth_refused")
                    .description("requests refused with 401, by reason")
                    .tag("reason", reason.name())
                    .register(registry));
        }
    }

    public boolean enabled() {
        return authenticator != null;
    }

    public void check(Context ctx) {
        if (authenticator == null) {
            return;
        }
        Access access = access(ctx.routeRoles());
        if (access == Access.PUBLIC) {
            return;
        }
        Authenticator.Outcome outcome = authenticator.authenticate(new Authenticator.Request(ctx.method().name(),
                pathWithQuery(ctx), ctx::header, ctx.bodyAsBytes()), clockMs.getAsLong());
        if (!outcome.accepted()) {
            refused.get(outcome.refusal()).increment();
            LOG.debug("refused {} {}: {}", ctx.method(), ctx.path(), outcome.refusal());
            throw new ApiException(401, "UNAUTHORIZED", "missing or invalid request signature");
        }
        Caller caller = outcome.caller();
        if (!caller.role().permits(access)) {
            throw new ApiException(403, "FORBIDDEN", "this key may not make this request");
        }
        ctx.attribute(CALLER_ATTRIBUTE, caller);
    }

    /**
     * True when a request with these parts would pass {@link #check} for {@code access}; counts and
     * logs nothing (a request it does not admit goes to {@link #check}, which answers it).
     */
    boolean admits(String method, String pathWithQuery, UnaryOperator<String> headers, byte[] body, Access access) {
        return admission(method, pathWithQuery, headers, body, access).admitted();
    }

    /** What {@link #check} would decide: admitted or not, and as whom (null in development mode). */
    record Admission(boolean admitted, Caller caller) {
        private static final Admission REFUSED = new Admission(false, null);
        private static final Admission UNSIGNED = new Admission(true, null);
    }

    /** Like {@link #admits}, with the caller; counts and logs nothing. */
    Admission admission(String method, String pathWithQuery, UnaryOperator<String> headers, byte[] body, Access access) {
        if (authenticator == null || access == Access.PUBLIC) {
            return Admission.UNSIGNED;
        }
        Authenticator.Outcome outcome = authenticator.authenticate(new Authenticator.Request(method, pathWithQuery,
                headers, body), clockMs.getAsLong());
        return outcome.accepted() && outcome.caller().role().permits(access) ? new Admission(true, outcome.caller())
                : Admission.REFUSED;
    }

    /** The caller the gate accepted; null in development mode. */
    static Caller caller(Context ctx) {
        return ctx.attribute(CALLER_ATTRIBUTE);
    }

    /** The path and query exactly as the client sent them (still percent-encoded), which is what was signed. */
    static String pathWithQuery(Context ctx) {
        String query = ctx.req().getQueryString();
        return query == null ? ctx.req().getRequestURI() : ctx.req().getRequestURI() + "?" + query;
    }

    private static Access access(Set<RouteRole> roles) {
        Access needed = null;
        for (RouteRole role : roles) {
            if (role instanceof Access access && (needed == null || access.compareTo(needed) > 0)) {
                needed = access;
            }
        }
        return needed == null ? Access.WRITE : needed;
    }
}
