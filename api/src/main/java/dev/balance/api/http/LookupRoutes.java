package dev.balance.api.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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

    /**
     * One item as asked: the account, and the currency or null for all of the account's balances;
     * or, for an item that is not valid, its error item.
     */
    record Item(long accountId, String currency, String error) {
        static Item failed(String error) {
            return new Item(0, null, error);
        }
    }

    public void lookup(Context ctx) {
        Lookup lookup = prepare(requests.body(ctx), requests.forwarded(ctx));
        if (lookup.done()) {
            // Every item was answered here: no asynchronous answer to wait for.
            HttpApi.write(ctx, 200, lookup.answer());
            return;
        }
        ctx.future(() -> lookup.fetch().thenAccept(answer -> HttpApi.write(ctx, 200, answer)));
    }

    /**
     * A lookup parsed, its own items read: {@link #answer} at once when {@link #done}, else the
     * answer once {@link #fetch} has asked the other owners.
     */
    final class Lookup {
        private final List<Item> items;
        private final String[] results;
        private final Map<String, List<Integer>> remote;
        private final byte[] answer;

        private Lookup(List<Item> items, String[] results, Map<String, List<Integer>> remote, byte[] answer) {
            this.items = items;
            this.results = results;
            this.remote = remote;
            this.answer = answer;
        }

        boolean done() {
            return answer != null;
        }

        byte[] answer() {
            return answer;
        }

        CompletableFuture<byte[]> fetch() {
            List<CompletableFuture<Void>> fetches = new ArrayList<>();
            remote.forEach((host, positions) -> fetches.add(LookupRoutes.this.fetch(host, positions, items, results)));
            return CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new))
                    .thenApply(done -> LookupRoutes.answer(results));
        }
    }

    /**
     * Parses a lookup and answers the items this node owns (all of them when another node
     * forwarded it); an ApiException for a body that is not a lookup (the request's answer).
     */
    Lookup prepare(byte[] body, boolean forwarded) {
        List<Item> items = parse(body);
        Map<String, List<Integer>> remote = null;
        int[] partitions = new int[items.size()];
        String[] errors = null;
        for (int i = 0; i < items.size(); i++) {
            Item item = items.get(i);
            if (item.error() != null) {
                continue;
            }
            try {
                Owner owner = forwarded ? null : ownership.activeOwner(item.accountId());
                if (owner instanceof Owner.Remote away) {
                    if (remote == null) {
                        remote = new LinkedHashMap<>();
                    }
                    remote.computeIfAbsent(away.hostPort(), host -> new ArrayList<>()).add(i);
                    partitions[i] = -1;
                } else {
                    partitions[i] = owner instanceof Owner.Local local ? local.partition()
                            : ownership.partition(item.accountId());
                }
            } catch (ApiException e) {
                if (errors == null) {
                    errors = new String[items.size()];
                }
                errors[i] = itemError(e);
            }
        }
        if (remote == null) {
            // All here: every item written straight into the one answer.
            JsonText answer = new JsonText(64 + 200 * items.size());
            boolean allFound = true;
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) {
                    answer.append(',');
                }
                Item item = items.get(i);
                String error = item.error() != null ? item.error() : errors != null ? errors[i] : null;
                if (error == null) {
                    int mark = answer.length();
                    error = read(partitions[i], item, answer);
                    if (error != null) {
                        answer.truncate(mark);
                    }
                }
                if (error != null) {
                    answer.append(error);
                    allFound = false;
                }
            }
            return new Lookup(items, null, null, answer.toBytes(allFound ? "{\"success\":true,\"results\":["
                    : "{\"success\":false,\"results\":[", "]}"));
        }
        String[] results = new String[items.size()];
        for (int i = 0; i < items.size(); i++) {
            Item item = items.get(i);
            if (item.error() != null) {
                results[i] = item.error();
            } else if (errors != null && errors[i] != null) {
                results[i] = errors[i];
            } else if (partitions[i] >= 0) {
                JsonText one = new JsonText(192);
                String error = read(partitions[i], item, one);
                results[i] = error != null ? error : one.toString();
            }
        }
        return new Lookup(items, results, remote, null);
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
    private static final byte[] OK_PREFIX_BYTES = OK_PREFIX.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BALANCE_FIELD = "\"balance\":".getBytes(StandardCharsets.US_ASCII);

    /**
     * The items of a lookup body, read as a stream of tokens (no tree): each a valid item, or one
     * that carries its own error. An ApiException when the body is not a lookup.
     */
    List<Item> parse(byte[] body) {
        Requests.requireBody(body);
        List<Item> items = new ArrayList<>();
        try (JsonParser parser = mapper.getFactory().createParser(body)) {
            if (parser.nextToken() != JsonToken.START_ARRAY) {
                // Anything else, read whole, is valid JSON that is not a lookup, or invalid JSON.
                requests.json(body);
                throw ApiException.validation("a lookup is a JSON array of {account_id, currency_code?}",
                        Map.of("body", "must be a JSON array"));
            }
            for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
                if (token == null) {
                    throw ApiException.validation("the request body is not valid JSON: the array is not closed",
                            Map.of("body", "must be valid JSON"));
                }
                items.add(token == JsonToken.START_OBJECT ? item(parser) : notAnObject(parser));
            }
        } catch (IOException e) {
            throw Requests.unreadable(e);
        }
        if (items.size() > lookupSizeMax) {
            throw new ApiException(413, "LOOKUP_TOO_LARGE", "a lookup holds at most " + lookupSizeMax + " items, got "
                    + items.size(), Map.of(), null);
        }
        if (items.isEmpty()) {
            throw ApiException.validation("a lookup must hold at least one item", Map.of("body", "is empty"));
        }
        return items;
    }

    private Item notAnObject(JsonParser parser) throws IOException {
        parser.skipChildren();
        return Item.failed(itemError(ApiException.validation("an item is an object {account_id, currency_code?}",
                Map.of("item", "must be a JSON object"))));
    }

    /** One item, its object's start just read; a field given twice counts with its last value, as in a tree. */
    private Item item(JsonParser parser) throws IOException {
        long accountId = 0;
        boolean currencyGiven = false;
        String currency = null;
        for (JsonToken token = parser.nextToken(); token == JsonToken.FIELD_NAME; token = parser.nextToken()) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if ("account_id".equals(field)) {
                accountId = 0;
                if (value == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                    accountId = parser.getLongValue();
                } else if (value == JsonToken.VALUE_STRING) {
                    accountId = Validation.parseAccountId(parser.getText());
                }
            } else if ("currency_code".equals(field)) {
                currencyGiven = value != JsonToken.VALUE_NULL;
                currency = value == JsonToken.VALUE_STRING ? parser.getText() : null;
            }
            parser.skipChildren();
        }
        if (accountId <= 0) {
            return Item.failed(itemError(ApiException.validation("account_id must be a positive 64-bit integer",
                    Map.of("account_id", "must be a positive 64-bit integer"))));
        }
        if (currencyGiven && (currency == null || !currencies.contains(currency))) {
            return Item.failed(itemError(ApiException.validation("unknown currency",
                    Map.of("currency_code", "is not a registered currency"))));
        }
        return new Item(accountId, currencyGiven ? currency : null, null);
    }

    /**
     * One item from this node's store, appended to {@code out} as JSON text; null when it was, else
     * the 503 item to give instead (the partition moved away under the read).
     */
    private String read(int partition, Item item, JsonText out) {
        try {
            out.append(OK_PREFIX_BYTES);
            if (item.currency() != null) {
                Balance balance = stores.balance(partition, item.accountId(), item.currency(), false);
                if (balance == null) {
                    balance = Balance.zero(currencies.scale(item.currency()));
                }
                out.append(BALANCE_FIELD).balance(item.accountId(), item.currency(), balance);
            } else {
                out.append("\"account_id\":").append(item.accountId()).append(",\"balances\":[");
                boolean first = true;
                for (LocalStores.CurrencyBalance entry : stores.balances(partition, item.accountId(), false)) {
                    if (!first) {
                        out.append(',');
                    }
                    out.balance(item.accountId(), entry.currency(), entry.balance());
                    first = false;
                }
                out.append(']');
            }
            out.append('}');
            return null;
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
