package dev.balance.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.balance.api.query.Forwarder;
import dev.balance.api.query.LocalStores;
import dev.balance.api.query.Owner;
import dev.balance.api.query.Ownership;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.Currencies;
import dev.balance.topology.model.Validation;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /api/v1/balances/lookup}: many balances in one request. Items are answered in
 * order, each with its own code: those this node owns from its stores, the others grouped by
 * owner and fetched from each owner once, all owners at the same time. A bad item (400) or an item
 * whose partition is moving (503) fails alone, never the whole request. A read: it changes nothing.
 */
public final class LookupRoutes {

    public static final String LOOKUP_PATH = "/api/v1/balances/lookup";

    private final Requests requests;
    private final Responses responses;
    private final ObjectMapper mapper;
    private final Currencies currencies;
    private final Ownership ownership;
    private final LocalStores stores;
    private final Forwarder forwarder;
    private final int lookupSizeMax;

    public LookupRoutes(Requests requests, Responses responses, ObjectMapper mapper, Currencies currencies,
                        Ownership ownership, LocalStores stores, Forwarder forwarder, int lookupSizeMax) {
        this.requests = requests;
        this.responses = responses;
        this.mapper = mapper;
        this.currencies = currencies;
        this.ownership = ownership;
        this.stores = stores;
        this.forwarder = forwarder;
        this.lookupSizeMax = lookupSizeMax;
    }

    /** One item as asked: the account, and the currency or null for all of the account's balances. */
    private record Item(long accountId, String currency) {
    }

    public void lookup(Context ctx) {
        byte[] body = requests.body(ctx);
        boolean forwarded = requests.forwarded(ctx);
        JsonNode items = requests.json(body);
        if (!items.isArray()) {
            throw ApiException.validation("a lookup is a JSON array of {account_id, currency_code?}",
                    Map.of("body", "must be a JSON array"));
        }
        if (items.size() > lookupSizeMax) {
            throw new ApiException(413, "LOOKUP_TOO_LARGE", "a lookup holds at most " + lookupSizeMax + " items, got "
                    + items.size(), Map.of(), null);
        }
        if (items.isEmpty()) {
            throw ApiException.validation("a lookup must hold at least one item", Map.of("body", "is empty"));
        }
        String[] results = new String[items.size()];
        Map<String, List<Integer>> remote = new LinkedHashMap<>();
        List<Item> parsed = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            Item item = parse(items.get(i), i, results);
            parsed.add(item);
            if (item == null) {
                continue;
            }
            try {
                Owner owner = forwarded ? null : ownership.activeOwner(item.accountId());
                if (owner instanceof Owner.Remote away) {
                    remote.computeIfAbsent(away.hostPort(), host -> new ArrayList<>()).add(i);
                } else {
                    int partition = owner instanceof Owner.Local local ? local.partition()
                            : ownership.partition(item.accountId());
                    results[i] = read(partition, item);
                }
            } catch (ApiException e) {
                results[i] = itemError(e);
            }
        }
        if (remote.isEmpty()) {
            // Every item was answered here: no asynchronous answer to wait for.
            HttpApi.write(ctx, 200, answer(results));
            return;
        }
        List<CompletableFuture<Void>> fetches = new ArrayList<>();
        remote.forEach((host, positions) -> fetches.add(fetch(host, positions, parsed, results)));
        ctx.future(() -> CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new))
                .thenAccept(done -> HttpApi.write(ctx, 200, answer(results))));
    }

    private static byte[] answer(String[] results) {
        boolean allFound = true;
        int length = 32;
        for (String result : results) {
            allFound &= result.startsWith(OK_PREFIX);
            length += result.length() + 1;
        }
        StringBuilder answer = new StringBuilder(length);
        answer.append("{\"success\":").append(allFound).append(",\"results\":[");
        for (int i = 0; i < results.length; i++) {
            answer.append(i == 0 ? "" : ",").append(results[i]);
        }
        return answer.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Every answered item starts with its code; a 200 item with exactly this. */
    private static final String OK_PREFIX = "{\"code\":200,";

    private Item parse(JsonNode node, int index, String[] results) {
        if (node == null || !node.isObject()) {
            results[index] = itemError(ApiException.validation("an item is an object {account_id, currency_code?}",
                    Map.of("item", "must be a JSON object")));
            return null;
        }
        JsonNode account = node.get("account_id");
        long accountId = 0;
        if (account != null && account.isIntegralNumber() && account.canConvertToLong()) {
            accountId = account.longValue();
        } else if (account != null && account.isTextual()) {
            accountId = Validation.parseAccountId(account.textValue());
        }
        if (accountId <= 0) {
            results[index] = itemError(ApiException.validation("account_id must be a positive 64-bit integer",
                    Map.of("account_id", "must be a positive 64-bit integer")));
            return null;
        }
        JsonNode currency = node.get("currency_code");
        if (currency == null || currency.isNull()) {
            return new Item(accountId, null);
        }
        if (!currency.isTextual() || !currencies.contains(currency.textValue())) {
            results[index] = itemError(ApiException.validation("unknown currency",
                    Map.of("currency_code", "is not a registered currency")));
            return null;
        }
        return new Item(accountId, currency.textValue());
    }

    /** One item from this node's store, as JSON text; a 503 item when the partition moved away under the read. */
    private String read(int partition, Item item) {
        try {
            StringBuilder result = new StringBuilder(192).append(OK_PREFIX);
            if (item.currency() != null) {
                Balance balance = stores.balance(partition, item.accountId(), item.currency(), false);
                if (balance == null) {
                    balance = Balance.zero(currencies.scale(item.currency()));
                }
                Responses.appendBalance(result.append("\"balance\":"), item.accountId(), item.currency(), balance);
            } else {
                result.append("\"account_id\":").append(item.accountId()).append(",\"balances\":[");
                boolean first = true;
                for (LocalStores.CurrencyBalance entry : stores.balances(partition, item.accountId(), false)) {
                    Responses.appendBalance(result.append(first ? "" : ","), item.accountId(), entry.currency(),
                            entry.balance());
                    first = false;
                }
                result.append(']');
            }
            return result.append('}').toString();
        } catch (ApiException e) {
            return itemError(e);
        }
    }

    /** The items one owner holds, asked of it in one forwarded lookup; on failure each is a 503 item. */
    private CompletableFuture<Void> fetch(String host, List<Integer> positions, List<Item> items, String[] results) {
        ArrayNode request = mapper.createArrayNode();
        for (int position : positions) {
            Item item = items.get(position);
            ObjectNode node = request.addObject().put("account_id", item.accountId());
            if (item.currency() != null) {
                node.put("currency_code", item.currency());
            }
        }
        byte[] body = request.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return forwarder.forward(host, "POST", LOOKUP_PATH, body).handle((response, error) -> {
            JsonNode answered = error == null && response.status() == 200 ? parseAnswer(response.body()) : null;
            JsonNode list = answered == null ? null : answered.get("results");
            for (int k = 0; k < positions.size(); k++) {
                JsonNode one = list != null && list.isArray() && list.size() == positions.size() ? list.get(k) : null;
                results[positions.get(k)] = one instanceof ObjectNode object && object.has("code")
                        ? codeFirst(object)
                        : itemError(ApiException.notReady("the owner " + host + " did not answer for this item"));
            }
            return null;
        });
    }

    private JsonNode parseAnswer(byte[] body) {
        try {
            return mapper.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    /** An item as JSON text with its code as the first field, as every item is written. */
    private String codeFirst(ObjectNode item) {
        ObjectNode ordered = mapper.createObjectNode();
        ordered.set("code", item.get("code"));
        item.fields().forEachRemaining(field -> {
            if (!field.getKey().equals("code")) {
                ordered.set(field.getKey(), field.getValue());
            }
        });
        return ordered.toString();
    }

    private String itemError(ApiException error) {
        ObjectNode item = mapper.createObjectNode();
        item.put("code", error.status());
        item.setAll(responses.error(error).body());
        if (error.retryAfterS() != null) {
            item.put("retry_after_s", error.retryAfterS());
        }
        return item.toString();
    }
}
