package dev.balance.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.balance.api.ChangeSubmitter;
import dev.balance.api.query.Forwarder;
import dev.balance.api.query.Owner;
import dev.balance.api.query.Ownership;
import dev.balance.topology.model.BalanceEvent;
import dev.balance.topology.model.ChangeCommand;
import dev.balance.topology.model.ChangeRequests;
import dev.balance.topology.model.ChangeType;
import dev.balance.topology.model.Currencies;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * POST /api/v1/balance/change and POST /api/v1/balance/changes: validate, find the owner, and
 * either submit locally and wait for the verdict or forward to the owner once.
 */
public final class ChangeRoutes {

    public static final String CHANGE_PATH = "/api/v1/balance/change";
    public static final String BATCH_PATH = "/api/v1/balance/changes";

    private final Requests requests;
    private final Responses responses;
    private final ObjectMapper mapper;
    private final Currencies currencies;
    private final Ownership ownership;
    private final ChangeSubmitter submitter;
    private final Forwarder forwarder;
    private final int batchSizeMax;
    private final Executor answers;

    /**
     * @param answers where answers are rendered and written once verdicts arrive (verdicts complete
     *                on stream threads, which must not do that work)
     */
    public ChangeRoutes(Requests requests, Responses responses, ObjectMapper mapper, Currencies currencies,
                        Ownership ownership, ChangeSubmitter submitter, Forwarder forwarder, int batchSizeMax,
                        Executor answers) {
        this.requests = requests;
        this.responses = responses;
        this.mapper = mapper;
        this.currencies = currencies;
        this.ownership = ownership;
        this.submitter = submitter;
        this.forwarder = forwarder;
        this.batchSizeMax = batchSizeMax;
        this.answers = answers;
    }

    public void change(Context ctx) {
        byte[] body = requests.body(ctx);
        boolean forwarded = requests.forwarded(ctx);
        ChangeRequests.Parsed parsed = parse(requests.json(body));
        if (!parsed.valid()) {
            throw ApiException.validation("the change is not valid: " + parsed.errors(), parsed.errors());
        }
        ChangeCommand command = parsed.command();
        RequestLog.change(ctx, command.accountId(), command.transactionId());
        Owner owner = forwarded ? null : ownership.activeOwner(command.accountId());
        requests.audit(ctx, command, route(owner));
        if (owner instanceof Owner.Remote remote) {
            ctx.future(() -> forwarder.forward(remote.hostPort(), "POST", CHANGE_PATH, body)
                    .thenAccept(response -> HttpApi.relay(ctx, response)));
            return;
        }
        ctx.future(() -> decide(command).thenAccept(rendered -> {
            if (rendered.status() == 202) {
                ctx.header("Location", location(command));
            }
            HttpApi.send(ctx, rendered.status(), rendered.body());
        }));
    }

    /**
     * The command of a change body that this node decides itself: valid, and its account owned
     * here. Null for anything else (unreadable, invalid, owned elsewhere, owner unknown), which the
     * route answers or forwards with its usual errors. Used by {@link ChangeLane}.
     */
    ChangeCommand localCommand(byte[] body) {
        JsonNode json;
        try {
            json = requests.json(body);
        } catch (ApiException e) {
            return null;
        }
        ChangeRequests.Parsed parsed = parse(json);
        if (!parsed.valid()) {
            return null;
        }
        try {
            return ownership.activeOwner(parsed.command().accountId()) instanceof Owner.Local ? parsed.command() : null;
        } catch (ApiException e) {
            return null;
        }
    }

    /** The audit line of a change {@link ChangeLane} took (the caller it admitted; null in development mode). */
    void auditLocal(dev.balance.api.auth.Caller caller, ChangeCommand command) {
        requests.audit(caller, null, command, "local");
    }

    /**
     * Submits a change decided here and completes, on the answer pool, with its rendered answer:
     * the verdict, or PENDING (202) when none came within the wait limit; exceptionally with the
     * {@link ApiException} (503) of a change that could not be recorded. Verdicts complete on stream
     * threads, which must not render.
     */
    CompletableFuture<Responses.Rendered> decide(ChangeCommand command) {
        return submitter.submit(command).thenApplyAsync(verdict -> render(command, verdict), answers);
    }

    /** The API error behind a failed {@link #decide}. */
    static ApiException apiError(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return cause instanceof ApiException api ? api
                : new ApiException(503, "UNAVAILABLE", "the change could not be processed: " + cause.getClass().getSimpleName(),
                        Map.of(), 1);
    }

    public void batch(Context ctx) {
        byte[] body = requests.body(ctx);
        boolean forwarded = requests.forwarded(ctx);
        JsonNode items = requests.json(body);
        if (!items.isArray()) {
            throw ApiException.validation("a batch must be a JSON array of changes", Map.of("body", "must be a JSON array"));
        }
        if (items.size() > batchSizeMax) {
            throw new ApiException(413, "BATCH_TOO_LARGE", "a batch holds at most " + batchSizeMax + " changes, got "
                    + items.size(), Map.of(), null);
        }
        if (items.isEmpty()) {
            throw ApiException.validation("a batch must hold at least one change", Map.of("body", "is empty"));
        }
        ctx.future(() -> decideBatch(ctx, items, forwarded).thenAcceptAsync(results -> {
            ObjectNode answer = mapper.createObjectNode();
            boolean allApplied = true;
            ArrayNode array = answer.putArray("results");
            for (Responses.Rendered result : results) {
                ObjectNode item = result.body();
                item.put("code", result.status());
                allApplied &= result.status() == 200;
                array.add(item);
            }
            answer.put("success", allApplied);
            HttpApi.send(ctx, 200, answer);
        }, answers));
    }

    /** Verdicts of every item in order: invalid ones at once, local ones submitted, remote ones forwarded per owner. */
    private CompletableFuture<List<Responses.Rendered>> decideBatch(Context ctx, JsonNode items, boolean forwarded) {
        int size = items.size();
        List<CompletableFuture<Responses.Rendered>> results = new ArrayList<>(size);
        List<ChangeCommand> local = new ArrayList<>();
        List<Integer> localPositions = new ArrayList<>();
        Map<String, List<Integer>> remotePositions = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) {
            results.add(null);
            ChangeRequests.Parsed parsed = parse(items.get(i));
            if (!parsed.valid()) {
                ApiException error = ApiException.validation("the change is not valid: " + parsed.errors(), parsed.errors());
                results.set(i, CompletableFuture.completedFuture(responses.error(error)));
                continue;
            }
            Owner owner;
            try {
                owner = forwarded ? new Owner.Local(-1) : ownership.activeOwner(parsed.command().accountId());
            } catch (ApiException e) {
                results.set(i, CompletableFuture.completedFuture(responses.error(e)));
                continue;
            }
            requests.audit(ctx, parsed.command(), route(owner));
            if (owner instanceof Owner.Remote remote) {
                remotePositions.computeIfAbsent(remote.hostPort(), host -> new ArrayList<>()).add(i);
            } else {
                local.add(parsed.command());
                localPositions.add(i);
            }
        }
        CompletableFuture<List<ChangeSubmitter.Outcome>> outcomes = submitter.submitAll(local);
        remotePositions.forEach((hostPort, positions) -> forwardGroup(items, hostPort, positions, results));
        List<CompletableFuture<?>> all = new ArrayList<>();
        all.add(outcomes);
        results.stream().filter(java.util.Objects::nonNull).forEach(all::add);
        // Rendering waits for the last verdict and then runs once, on the answer pool.
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).handleAsync((done, ignored) -> {
            List<ChangeSubmitter.Outcome> decided = outcomes.join();
            for (int j = 0; j < local.size(); j++) {
                results.set(localPositions.get(j), CompletableFuture.completedFuture(renderItem(local.get(j), decided.get(j))));
            }
            return results.stream().map(CompletableFuture::join).toList();
        }, answers);
    }

    private void forwardGroup(JsonNode items, String hostPort, List<Integer> positions,
                              List<CompletableFuture<Responses.Rendered>> results) {
        ArrayNode group = mapper.createArrayNode();
        positions.forEach(position -> group.add(items.get(position)));
        CompletableFuture<List<Responses.Rendered>> answers = forwarder
                .forward(hostPort, "POST", BATCH_PATH, group.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .thenApply(response -> unpackBatch(response, positions.size()))
                .exceptionally(error -> {
                    Responses.Rendered failed = responses.error(apiError(error));
                    return java.util.Collections.nCopies(positions.size(), failed);
                });
        for (int k = 0; k < positions.size(); k++) {
            int index = k;
            results.set(positions.get(k), answers.thenApply(list -> list.get(index)));
        }
    }

    private List<Responses.Rendered> unpackBatch(Forwarder.Response response, int expected) {
        try {
            JsonNode answer = mapper.readTree(response.body());
            JsonNode results = answer.get("results");
            if (response.status() == 200 && results != null && results.isArray() && results.size() == expected) {
                List<Responses.Rendered> rendered = new ArrayList<>(expected);
                for (JsonNode item : results) {
                    ObjectNode body = (ObjectNode) item;
                    int code = body.path("code").asInt(502);
                    body.remove("code");
                    rendered.add(new Responses.Rendered(code, body));
                }
                return rendered;
            }
            ObjectNode error = answer.isObject() ? (ObjectNode) answer : mapper.createObjectNode();
            return java.util.Collections.nCopies(expected, new Responses.Rendered(response.status(), error));
        } catch (java.io.IOException e) {
            throw new ApiException(502, "BAD_OWNER_ANSWER", "the owning node sent an unreadable answer");
        }
    }

    /** Parses and validates one change, before it costs a round trip to Kafka. */
    private ChangeRequests.Parsed parse(JsonNode item) {
        return ChangeRequests.parse(item, currencies);
    }

    private Responses.Rendered render(ChangeCommand command, Optional<BalanceEvent> verdict) {
        return verdict.map(responses::verdict).orElseGet(() -> responses.pending(command.transactionId()));
    }

    private Responses.Rendered renderItem(ChangeCommand command, ChangeSubmitter.Outcome outcome) {
        if (outcome.error() != null) {
            return responses.error(outcome.error());
        }
        return withLocation(command, render(command, Optional.ofNullable(outcome.verdict())));
    }

    private Responses.Rendered withLocation(ChangeCommand command, Responses.Rendered rendered) {
        if (rendered.status() == 202) {
            rendered.body().put("location", location(command));
        }
        return rendered;
    }

    /** Where a change goes, for the audit line: decided here, or forwarded to its owner. */
    private static String route(Owner owner) {
        return owner instanceof Owner.Remote remote ? "forwarded:" + remote.hostPort() : "local";
    }

    static String location(ChangeCommand command) {
        return "/api/v1/transactions/" + command.accountId() + "/" + command.transactionId();
    }

}
