package dev.balance.api.http;

import dev.balance.api.auth.Access;
import dev.balance.api.query.Forwarder;
import dev.balance.topology.model.ChangeCommand;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A fast lane for the service's main request: one change, {@code POST /api/v1/balance/change},
 * whose body arrived with its headers, signed (or in development mode, plain), valid, and for an
 * account this node owns. It is submitted here, on Jetty's own request, and its verdict is written
 * from the answer pool straight to Jetty's response: no servlet wrappers, no Javalin context, no
 * second dispatch to write the answer.
 *
 * <p>Everything else goes on to the routes of {@link HttpApi}, with the body the lane read put back
 * in front of the rest: a query string, a body not yet arrived or too large, a refused signature,
 * an invalid or unreadable body, an account owned elsewhere (forwarded by the route) or not owned
 * by anyone right now, a request another node forwarded. The routes answer those with their
 * errors, metrics and log lines, as before. The lane decides only whether it answers; what it
 * answers is what the route would ({@link ChangeRoutes#decide} renders both), with the same
 * {@code X-Request-Id}, {@code Location} of a 202, {@code Retry-After} of a 503, request metric,
 * access line and audit line.
 */
final class ChangeLane extends Handler.Wrapper {

    private final ChangeRoutes changes;
    private final Responses responses;
    private final AuthGate gate;
    private final PrometheusMeterRegistry registry;
    private final int bodyBytesMax;
    private final Timer appliedTimer;

    ChangeLane(ChangeRoutes changes, Responses responses, AuthGate gate, PrometheusMeterRegistry registry,
               int bodyBytesMax) {
        this.changes = changes;
        this.responses = responses;
        this.gate = gate;
        this.registry = registry;
        this.bodyBytesMax = bodyBytesMax;
        this.appliedTimer = HttpApi.requestTimer(registry, "POST", ChangeRoutes.CHANGE_PATH, 200);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        long started = System.nanoTime();
        if (!"POST".equals(request.getMethod())) {
            return super.handle(request, response, callback);
        }
        if (!ChangeRoutes.CHANGE_PATH.equals(request.getHttpURI().getPath())
                || request.getHeaders().contains(Forwarder.FORWARDED_HEADER)) {
            return super.handle(request, response, callback);
        }
        Body read = Body.of(request, bodyBytesMax);
        if (read.replay() != null) {
            return super.handle(read.replay(), response, callback);
        }
        byte[] body = read.bytes();
        ChangeCommand command = null;
        AuthGate.Admission admission = gate.admission("POST", ChangeRoutes.CHANGE_PATH,
                name -> request.getHeaders().get(name), body, Access.WRITE);
        if (admission.admitted()) {
            command = changes.localCommand(body);
        }
        if (command == null) {
            return super.handle(Body.whole(request, body), response, callback);
        }
        changes.auditLocal(admission.caller(), command);
        String requestId = RequestLog.requestId(request.getHeaders().get(RequestLog.REQUEST_ID_HEADER));
        ChangeCommand decided = command;
        changes.decide(command).whenComplete((rendered, error) -> {
            try {
                Responses.Rendered answer = rendered;
                if (error != null) {
                    ApiException refusal = ChangeRoutes.apiError(error);
                    if (refusal.retryAfterS() != null) {
                        response.getHeaders().put(HttpHeader.RETRY_AFTER, Integer.toString(refusal.retryAfterS()));
                    }
                    answer = responses.error(refusal);
                } else if (answer.status() == 202) {
                    response.getHeaders().put(HttpHeader.LOCATION, ChangeRoutes.location(decided));
                }
                int status = answer.status();
                byte[] bytes = answer.body().toString().getBytes(StandardCharsets.UTF_8);
                ReadLane.write(response, callback, status, bytes, requestId);
                long elapsed = System.nanoTime() - started;
                (status == 200 ? appliedTimer : HttpApi.requestTimer(registry, "POST", ChangeRoutes.CHANGE_PATH, status))
                        .record(elapsed, TimeUnit.NANOSECONDS);
                RequestLog.finished("POST", ChangeRoutes.CHANGE_PATH, status, elapsed / 1_000_000f, requestId,
                        decided.accountId(), decided.transactionId());
            } catch (RuntimeException e) {
                callback.failed(e);
            }
        });
        return true;
    }

    /**
     * A body of {@code length} bytes as far as it arrived with the request: all of it, or the
     * request to hand on instead ({@code replay}), which gives the routes what was read so far and
     * then the rest from the connection.
     */
    record Body(byte[] bytes, Request replay) {

        /**
         * The body of a request without a query whose Content-Length (at most {@code bodyBytesMax})
         * announced it; any other request (a query, no length, too large, chunked) is its own replay.
         */
        static Body of(Request request, int bodyBytesMax) {
            long length = request.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
            if (request.getHttpURI().getQuery() != null || length <= 0 || length > bodyBytesMax
                    || request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
                return new Body(null, request);
            }
            return read(request, (int) length);
        }

        /** The request with the whole {@code body} the lane read put back in front. */
        static Request whole(Request request, byte[] body) {
            return new Replayed(request, body, body.length, true, null);
        }

        private static Body read(Request request, int length) {
            byte[] body = new byte[length];
            int filled = 0;
            boolean ended = false;
            while (filled < body.length && !ended) {
                Content.Chunk chunk = request.read();
                if (chunk == null || Content.Chunk.isFailure(chunk)) {
                    // Not all here yet (or failed): the routes read the rest, after what was read so far.
                    return new Body(null, new Replayed(request, body, filled, false, chunk));
                }
                ByteBuffer buffer = chunk.getByteBuffer();
                int size = buffer.remaining();
                if (size > body.length - filled) {
                    // More than Content-Length said: the routes (and Jetty) decide what that is.
                    return new Body(null, new Replayed(request, body, filled, false, chunk));
                }
                buffer.get(body, filled, size);
                filled += size;
                ended = chunk.isLast();
                chunk.release();
            }
            if (filled < body.length) {
                return new Body(null, new Replayed(request, body, filled, true, null));
            }
            return new Body(body, null);
        }
    }

    /**
     * The request as the routes must see it: the body bytes the lane already read come first, then
     * whatever the connection still holds (or, when the lane read it all, the end).
     */
    static final class Replayed extends Request.Wrapper {

        private Content.Chunk first;
        private Content.Chunk afterFirst;

        /**
         * @param whole    true when {@code body[0, filled)} is the whole body
         * @param pending  a chunk read after those bytes that the routes must still see (a failure), or null
         */
        Replayed(Request request, byte[] body, int filled, boolean whole, Content.Chunk pending) {
            super(request);
            Content.Chunk read = Content.Chunk.from(ByteBuffer.wrap(body, 0, filled), whole);
            this.first = filled == 0 && !whole ? pending : read;
            this.afterFirst = filled == 0 && !whole ? null : pending;
        }

        @Override
        public Content.Chunk read() {
            Content.Chunk chunk = first;
            if (chunk != null) {
                first = afterFirst;
                afterFirst = null;
                return chunk;
            }
            return super.read();
        }

        @Override
        public void demand(Runnable demandCallback) {
            if (first != null) {
                demandCallback.run();
                return;
            }
            super.demand(demandCallback);
        }
    }
}
