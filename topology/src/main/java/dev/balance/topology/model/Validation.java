package dev.balance.topology.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Field rules of a change (DESIGN §4-5). The API calls this before producing and the topology
 * calls it again, because the topology never trusts its input. Returns the problems by field,
 * empty when the command is valid.
 */
public final class Validation {

    public static final int TRANSACTION_ID_LENGTH_MAX = 64;
    public static final int USER_ID_LENGTH_MAX = 64;
    public static final int DESCRIPTION_LENGTH_MAX = 256;
    public static final int METADATA_BYTES_MAX = 4096;

    private Validation() {
    }

    public static Map<String, String> check(ChangeCommand command, Currencies currencies) {
        Map<String, String> errors = new LinkedHashMap<>();
        checkTransactionId(command.transactionId(), errors);
        if (command.accountId() <= 0) {
            errors.put("account_id", "must be a positive 64-bit integer");
        }
        if (command.userId() != null && command.userId().length() > USER_ID_LENGTH_MAX) {
            errors.put("user_id", "must be at most " + USER_ID_LENGTH_MAX + " characters");
        }
        if (!currencies.contains(command.currency())) {
            errors.put("currency_code", "unknown currency '" + command.currency() + "'");
        } else {
            try {
                Amounts.check(command.amount(), currencies.scale(command.currency()));
            } catch (Amounts.InvalidAmountException e) {
                errors.put("amount", e.getMessage());
            }
        }
        if (command.type() == ChangeType.TRANSFER && command.toAccountId() == 0) {
            errors.put("to_account_id", "is required for TRANSFER");
        } else if (command.type() == ChangeType.TRANSFER || command.type() == ChangeType.SETTLE) {
            if (command.toAccountId() < 0) {
                errors.put("to_account_id", "must be a positive 64-bit integer");
            } else if (command.toAccountId() == command.accountId()) {
                errors.put("to_account_id", "must differ from account_id");
            }
        } else if (command.toAccountId() != 0) {
            errors.put("to_account_id", "is only allowed for TRANSFER and SETTLE");
        }
        if (command.description() != null && command.description().length() > DESCRIPTION_LENGTH_MAX) {
            errors.put("description", "must be at most " + DESCRIPTION_LENGTH_MAX + " characters");
        }
        if (command.metadata() != null && utf8Length(command.metadata()) > METADATA_BYTES_MAX) {
            errors.put("metadata", "must be at most " + METADATA_BYTES_MAX + " bytes");
        }
        return errors;
    }

    public static void checkTransactionId(String transactionId, Map<String, String> errors) {
        if (!isTransactionId(transactionId)) {
            errors.put("transaction_id", "must be 1-" + TRANSACTION_ID_LENGTH_MAX + " characters of [A-Za-z0-9._:-], starting with a letter or digit");
        }
    }

    /**
     * An account id written as text: 1-19 decimal digits naming a positive 64-bit integer. Returns
     * the id, or 0 when the text is not one (0 is never a valid account id).
     */
    public static long parseAccountId(String text) {
        if (text == null || text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return 0L;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            // The digits do not fit 64 bits.
            return 0L;
        }
    }

    /**
     * 1-64 characters of {@code [A-Za-z0-9._:-]}, the first a letter or digit (so ids like "." or
     * ".." never become path segments that normalize away). Checked by hand rather than by a regex:
     * this runs for every command in the processor's hot path, where the regex engine showed up in
     * profiles.
     */
    public static boolean isTransactionId(String transactionId) {
        if (transactionId == null || transactionId.isEmpty() || transactionId.length() > TRANSACTION_ID_LENGTH_MAX) {
            return false;
        }
        if (!isAlphanumeric(transactionId.charAt(0))) {
            return false;
        }
        for (int i = 1; i < transactionId.length(); i++) {
            char c = transactionId.charAt(i);
            if (!isAlphanumeric(c) && c != '.' && c != '_' && c != ':' && c != '-') {
                return false;
            }
        }
        return true;
    }

    private static boolean isAlphanumeric(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    private static int utf8Length(String text) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
