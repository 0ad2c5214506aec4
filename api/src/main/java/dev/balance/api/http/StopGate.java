package dev.balance.api.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The outermost handler: counts requests in flight and, once a stop began, answers every new
 * request 503 STOPPING (with Retry-After, closing the connection) while the port stays open.
 *
 * <p>A node's port must stay open until its stream threads are closed: the other nodes take a
 * refused connection for a dead node and abort its open transaction ({@code PeerFencer}), which
 * would turn a clean stop into an unclean one. So a stop first turns new requests away here, lets
 * those in flight finish (a change waiting for its verdict gets it), closes stream processing, and
 * only then stops the server.
 */
public final class StopGate extends Handler.Wrapper {

    private static final byte[] STOPPING = ("{\"success\":false,\"error\":\"STOPPING\",\"error_message\":"
            + "\"the node is stopping; send the request to another node\"}").getBytes(StandardCharsets.UTF_8);

    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean stopping;

    /** As the handler behind it: it adds nothing that blocks. */
    @Override
    public InvocationType getInvocationType() {
        return getHandler() == null ? InvocationType.NON_BLOCKING : getHandler().getInvocationType();
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (stopping) {
            response.setStatus(503);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, STOPPING.length);
            response.write(true, ByteBuffer.wrap(STOPPING), callback);
            return true;
        }
        inFlight.incrementAndGet();
        Callback counted = Callback.from(callback, inFlight::decrementAndGet);
        boolean handled;
        try {
            handled = super.handle(request, response, counted);
        } catch (Throwable e) {
            inFlight.decrementAndGet();
            throw e;
        }
        if (!handled) {
            inFlight.decrementAndGet();
        }
        return handled;
    }

    /**
     * Turns new requests away from now on and waits, at most {@code waitMs}, until the requests in
     * flight have finished; true when they all did.
     */
    public boolean stopAndDrain(long waitMs) throws InterruptedException {
        stopping = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (inFlight.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    int inFlight() {
        return inFlight.get();
    }

    boolean stopping() {
        return stopping;
    }
}
