package dev.balance.api.auth;

import io.javalin.security.RouteRole;

/**
 * What a route needs from its caller. Every route declares one where it is registered, so a
 * route that reads through a POST (a lookup with a body) can say {@link #READ}: access follows
 * the route, not its HTTP method.
 */
public enum Access implements RouteRole {
    /** Liveness, readiness and metrics: answered without a signature. */
    PUBLIC,
    /** Reads balances and verdicts: any valid key. */
    READ,
    /** Changes balances: a {@code write} key. */
    WRITE
}
