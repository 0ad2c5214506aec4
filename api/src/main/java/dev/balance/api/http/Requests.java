package dev.balance.api.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.balance.api.query.Forwarder;
import dev.balance.topology.model.Validation;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.Map;

/** What every handler needs from a request: the checked body, the signature, the forwarding mark. */
public final class Requests {

    private final ObjectMapper mapper;
    private final RequestSigner signer;

    public Requests(ObjectMapper mapper, RequestSigner signer) {
        this.mapper = mapper;
        this.signer = signer;
    }

    /** The body of a mutating request after the signature check (when a secret is configured). */
    public byte[] signedBody(Context ctx) {
        byte[] body = ctx.bodyAsBytes();
        if (signer != null) {
            signer.verify(ctx.header(RequestSigner.TIMESTAMP_HEADER), ctx.header(RequestSigner.SIGNATURE_HEADER), body,
                    System.currentTimeMillis());
        }
        return body;
    }

    /**
     * True when another node forwarded this request to us as the owner. Without a secret any
     * client could set the header, which only makes this node answer locally: never unsafe.
     * With a secret, reads marked as forwarded must be signed too.
     */
    public boolean forwarded(Context ctx) {
        if (ctx.header(Forwarder.FORWARDED_HEADER) == null) {
            return false;
        }
        if (signer != null && ctx.method().name().equals("GET")) {
            signer.verify(ctx.header(RequestSigner.TIMESTAMP_HEADER), ctx.header(RequestSigner.SIGNATURE_HEADER),
                    new byte[0], System.currentTimeMillis());
        }
        return true;
    }

    public JsonNode json(byte[] body) {
        if (body.length == 0) {
            throw ApiException.validation("the request body is empty; send a JSON document", Map.of("body", "is required"));
        }
        try {
            return mapper.readTree(body);
        } catch (JsonProcessingException e) {
            throw ApiException.validation("the request body is not valid JSON: " + e.getOriginalMessage(),
                    Map.of("body", "must be valid JSON"));
        } catch (IOException e) {
            throw ApiException.validation("the request body could not be read", Map.of("body", "unreadable"));
        }
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
