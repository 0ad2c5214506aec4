package dev.balance.topology.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns the JSON body of a change request into a {@link ChangeCommand}, or into the problems
 * found, by field. Strict about types: amounts must be JSON strings (a JSON number may already
 * have passed through a double somewhere), ids must be integers. Unknown fields are ignored.
 */
public final class ChangeRequests {

    private ChangeRequests() {
    }

    /** Either a command or a non-empty map of problems by field. */
    public record Parsed(ChangeCommand command, Map<String, String> errors) {
        public boolean valid() {
            return command != null;
        }
    }

    public static Parsed parse(JsonNode body, Currencies currencies) {
        Map<String, String> errors = new LinkedHashMap<>();
        if (body == null || !body.isObject()) {
            errors.put("body", "must be a JSON object");
            return new Parsed(null, errors);
        }
        String transactionId = text(body, "transaction_id", true, errors);
        if (transactionId != null) {
            Validation.checkTransactionId(transactionId, errors);
        }
        long accountId = accountId(body, "account_id", true, errors);
        String userId = optionalText(body, "user_id", errors);
        String currency = text(body, "currency_code", true, errors);
        if (currency != null && !currencies.contains(currency)) {
            errors.put("currency_code", "unknown currency '" + truncate(currency) + "'");
            currency = null;
        }
        ChangeType type = type(body, errors);
        BigDecimal amount = null;
        String amountText = text(body, "amount", true, errors);
        if (amountText != null && currency != null) {
            try {
                amount = Amounts.parse(amountText, currencies.scale(currency));
            } catch (Amounts.InvalidAmountException e) {
                errors.put("amount", e.getMessage());
            }
        }
        long toAccountId = body.hasNonNull("to_account_id") ? accountId(body, "to_account_id", false, errors) : 0L;
        String description = optionalText(body, "description", errors);
        String metadata = null;
        JsonNode metadataNode = body.get("metadata");
        if (metadataNode != null && !metadataNode.isNull()) {
            if (!metadataNode.isObject()) {
                errors.put("metadata", "must be a JSON object");
            } else {
                metadata = metadataNode.toString();
            }
        }
        if (!errors.isEmpty() || type == null || amount == null || currency == null) {
            if (errors.isEmpty()) {
                // Every path that leaves a field null records why; reaching here is a bug.
                throw new IllegalStateException("parse left a field empty without an error");
            }
            return new Parsed(null, errors);
        }
        ChangeCommand command = new ChangeCommand(transactionId, accountId, userId, currency, type, amount,
                toAccountId, description, metadata);
        Map<String, String> ruleErrors = Validation.check(command, currencies);
        return ruleErrors.isEmpty() ? new Parsed(command, Map.of()) : new Parsed(null, ruleErrors);
    }

    private static String text(JsonNode body, String field, boolean required, Map<String, String> errors) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            if (required) {
                errors.put(field, "is required");
            }
            return null;
        }
        if (!node.isTextual()) {
            errors.put(field, "must be a string");
            return null;
        }
        return node.textValue();
    }

    private static String optionalText(JsonNode body, String field, Map<String, String> errors) {
        return text(body, field, false, errors);
    }

    private static long accountId(JsonNode body, String field, boolean required, Map<String, String> errors) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            if (required) {
                errors.put(field, "is required");
            }
            return 0L;
        }
        if (node.isIntegralNumber() && node.canConvertToLong() && node.longValue() > 0) {
            return node.longValue();
        }
        long fromText = node.isTextual() ? Validation.parseAccountId(node.textValue()) : 0L;
        if (fromText > 0) {
            return fromText;
        }
        errors.put(field, "must be a positive 64-bit integer");
        return 0L;
    }

    private static ChangeType type(JsonNode body, Map<String, String> errors) {
        JsonNode node = body.get("type");
        if (node == null || node.isNull()) {
            errors.put("type", "is required");
            return null;
        }
        ChangeType type = null;
        if (node.isIntegralNumber() && node.canConvertToInt()) {
            type = ChangeType.ofCode(node.intValue());
        } else if (node.isTextual()) {
            type = ChangeType.ofName(node.textValue());
        }
        if (type == null) {
            errors.put("type", "must be one of 0-5 or DEPOSIT, WITHDRAW, FREEZE, UNFREEZE, TRANSFER, SETTLE");
        }
        return type;
    }

    private static String truncate(String text) {
        return text.length() <= 20 ? text : text.substring(0, 20) + "...";
    }
}
