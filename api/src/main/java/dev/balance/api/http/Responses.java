package dev.balance.api.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.balance.topology.model.Balance;
import dev.balance.topology.model.BalanceEvent;
import java.time.Instant;
import java.util.Map;

/**
 * The JSON shapes of DESIGN §5, built in one place. Amounts are strings; field names snake_case;
 * {@code success}, {@code balance} and {@code error_message} as in the original design.
 */
public final class Responses {

    /** A status code and body, for verdicts that are rendered into single or batch answers. */
    public record Rendered(int status, ObjectNode body) {
    }

    private final ObjectMapper mapper;

    public Responses(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    public ObjectNode balance(long accountId, String currency, Balance balance) {
        ObjectNode node = mapper.createObjectNode();
        node.put("account_id", accountId);
        node.put("currency_code", currency);
        node.put("available", balance.available().toPlainString());
        node.put("frozen", balance.frozen().toPlainString());
        node.put("version", balance.version());
        if (balance.version() == 0) {
            node.putNull("updated_at");
        } else {
            node.put("updated_at", Instant.ofEpochMilli(balance.updatedAtMs()).toString());
        }
        return node;
    }

    public Rendered verdict(BalanceEvent event) {
        ObjectNode body = mapper.createObjectNode();
        switch (event.result().status()) {
            case APPLIED -> {
                body.put("success", true);
                body.put("status", "APPLIED");
                putTransaction(body, event);
                body.set("balance", balance(event.accountId(), event.currency(), event.balanceAfter()));
                return new Rendered(200, body);
            }
            case REJECTED -> {
                body.put("success", false);
                body.put("status", "REJECTED");
                body.put("reason", event.result().name());
                body.put("error_message", rejectionMessage(event));
                putTransaction(body, event);
                body.set("balance", balance(event.accountId(), event.currency(), event.balanceAfter()));
                return new Rendered(422, body);
            }
            case CONFLICT -> {
                body.put("success", false);
                body.put("error", "IDEMPOTENCY_CONFLICT");
                body.put("error_message", "transaction_id " + event.transactionId()
                        + " was already used on this account for a different change");
                putTransaction(body, event);
                return new Rendered(409, body);
            }
            case INVALID -> {
                body.put("success", false);
                body.put("error", "VALIDATION_FAILED");
                body.put("error_message", event.detail() == null ? "the change is not valid" : event.detail());
                body.put("transaction_id", event.transactionId());
                body.set("details", mapper.createObjectNode());
                return new Rendered(400, body);
            }
            default -> throw new IllegalStateException("no rendering for " + event.result());
        }
    }

    public Rendered pending(String transactionId) {
        ObjectNode body = mapper.createObjectNode();
        body.put("success", true);
        body.put("status", "PENDING");
        body.put("transaction_id", transactionId);
        body.put("error_message", "no verdict yet; the change is recorded and will be decided");
        return new Rendered(202, body);
    }

    public Rendered error(ApiException error) {
        ObjectNode body = mapper.createObjectNode();
        body.put("success", false);
        body.put("error", error.error());
        body.put("error_message", error.getMessage());
        if (!error.details().isEmpty()) {
            ObjectNode details = body.putObject("details");
            for (Map.Entry<String, String> entry : error.details().entrySet()) {
                details.put(entry.getKey(), entry.getValue());
            }
        }
        return new Rendered(error.status(), body);
    }

    public ObjectNode transaction(BalanceEvent event) {
        ObjectNode node = mapper.createObjectNode();
        node.put("transaction_id", event.transactionId());
        node.put("account_id", event.accountId());
        node.put("currency_code", event.currency());
        node.put("type", event.type().name());
        node.put("amount", event.amount().toPlainString());
        putCounterparty(node, event);
        node.put("status", event.result().status().name());
        node.put("result", event.result().name());
        node.put("decided_at", Instant.ofEpochMilli(event.timestampMs()).toString());
        node.set("balance", balance(event.accountId(), event.currency(), event.balanceAfter()));
        return node;
    }

    private static void putTransaction(ObjectNode body, BalanceEvent event) {
        body.put("transaction_id", event.transactionId());
        body.put("replay", event.replay());
        putCounterparty(body, event);
    }

    /**
     * Names the other account of a two-account change and which leg this is: the destination of a
     * debit, the source of a credit, the destination that refused the credit of a refund.
     */
    private static void putCounterparty(ObjectNode node, BalanceEvent event) {
        switch (event.leg()) {
            case NONE -> {
                if (event.toAccountId() != 0) {
                    node.put("to_account_id", event.toAccountId());
                }
            }
            case DEBIT -> {
                node.put("leg", "DEBIT");
                node.put("to_account_id", event.toAccountId());
            }
            case CREDIT -> {
                node.put("leg", "CREDIT");
                node.put("from_account_id", event.toAccountId());
            }
            case REFUND -> {
                node.put("leg", "REFUND");
                node.put("refused_by_account_id", event.toAccountId());
            }
            default -> throw new IllegalStateException("no rendering for leg " + event.leg());
        }
    }

    private static String rejectionMessage(BalanceEvent event) {
        return switch (event.result()) {
            case INSUFFICIENT_FUNDS -> "available balance " + event.availableBefore().toPlainString() + " is less than "
                    + event.amount().toPlainString();
            case INSUFFICIENT_FROZEN -> "frozen balance " + event.frozenBefore().toPlainString() + " is less than "
                    + event.amount().toPlainString();
            case BALANCE_LIMIT_EXCEEDED -> "the balance would reach the limit of 10^20";
            default -> event.result().name();
        };
    }
}
