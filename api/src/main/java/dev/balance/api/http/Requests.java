package dev.balance.api.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.balance.api.auth.Caller;
import dev.balance.api.query.Forwarder;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.Validation;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every handler needs from a request: the body, the forwarding mark, the audit line. The
 * signature was checked before the handler ran ({@link AuthGate}).
 */
public final class Requests {

    private static final Logger AUDIT = LoggerFactory.getLogger("dev.balance.audit");

    private final ObjectMapper mapper;
    private final boolean signed;

    /** @param signed true when requests are authenticated (keys or a secret configured) */
    public Requests(ObjectMapper mapper, boolean signed) {
        this.mapper = mapper;
        this.signed = signed;
    }

    public byte[] body(Context ctx) {
        return ctx.bodyAsBytes();
    }

    /**
     * True when another node forwarded this request to us as the owner. With keys or a secret
     * configured only a request signed with the node key counts; a client that sets the header
     * is served as any client. Without them any client could set it, which only makes this node
     * answer locally: never unsafe.
     */
    public boolean forwarded(Context ctx) {
        if (ctx.header(Forwarder.FORWARDED_HEADER) == null) {
            return false;
        }
        if (!signed) {
            return true;
        }
        Caller caller = AuthGate.caller(ctx);
        return caller != null && caller.isNode();
    }

    /**
     * One audit line per change a client sent: who (the key id, never a secret or a signature),
     * which transaction, and where it went. The node that authenticated the client writes it; an
     * owner that receives it forwarded writes {@code @node} and the node it came from.
     * Written only when requests are authenticated.
     */
    public void audit(Context ctx, ChangeCommand command, String route) {
        audit(AuthGate.caller(ctx), ctx.header(Forwarder.FORWARDED_HEADER), command, route);
    }

    /** The same line for a change taken outside the routes ({@link ChangeLane}). */
    void audit(Caller caller, String forwardedBy, ChangeCommand command, String route) {
        if (caller == null) {
            return;
        }
        if (caller.isNode()) {
            route = route + " forwarded_by=" + forwardedBy;
        }
        String target = command.toAccountId() == 0 ? "" : " to_account_id=" + command.toAccountId();
        AUDIT.info("change key_id={} transaction_id={} account_id={} type={} currency={} amount={}{} route={}",
                caller.keyId(), command.transactionId(), command.accountId(), command.type(), command.currency(),
                command.amount().toPlainString(), target, route);
    }

    public JsonNode json(byte[] body) {
        requireBody(body);
        try {
            return mapper.readTree(body);
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    /** A 400 for an empty body, where a JSON document is expected. */
    static void requireBody(byte[] body) {
        if (body.length == 0) {
            throw ApiException.validation("the request body is empty; send a JSON document", Map.of("body", "is required"));
        }
    }

    /** The 400 for a body that is not valid JSON (or could not be read). */
    static ApiException unreadable(IOException error) {
        if (error instanceof JsonProcessingException invalid) {
            return ApiException.validation("the request body is not valid JSON: " + invalid.getOriginalMessage(),
                    Map.of("body", "must be valid JSON"));
        }
        return ApiException.validation("the request body could not be read", Map.of("body", "unreadable"));
    }

    /** A positive 64-bit account id from the path, or a 400 naming the parameter. */
    public static long accountId(Context ctx, String parameter) {
        long accountId = Validation.parseAccountId(ctx.pathParam(parameter));
        if (accountId <= 0) {
            throw ApiException.validation(parameter + " must be a positive 64-bit integer",
                    Map.of(parameter, "must be a positive 64-bit integer"));
        }
        return accountId;
    }

    public static boolean allowStale(Context ctx) {
        return "true".equalsIgnoreCase(ctx.queryParam("allow_stale"));
    }
}
