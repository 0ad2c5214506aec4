package dev.balance.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The command line of the tool: a mode followed by {@code --name value} (or {@code --name=value})
 * options; an option without a value is a flag and reads as {@code true}. Unknown options are an
 * error, so a typo never silently falls back to a default.
 */
final class Args {

    private final String mode;
    private final Map<String, String> values;

    private Args(String mode, Map<String, String> values) {
        this.mode = mode;
        this.values = Collections.unmodifiableMap(values);
    }

    static Args parse(String[] argv) {
        if (argv.length == 0 || argv[0].startsWith("--")) {
            throw new IllegalArgumentException("the first argument must be a mode");
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 1; i < argv.length; i++) {
            String token = argv[i];
            if (!token.startsWith("--") || token.length() == 2) {
                throw new IllegalArgumentException("expected an option like --name value, got '" + token + "'");
            }
            String name = token.substring(2);
            int equals = name.indexOf('=');
            if (equals > 0) {
                values.put(name.substring(0, equals), name.substring(equals + 1));
            } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
                values.put(name, argv[++i]);
            } else {
                values.put(name, "true");
            }
        }
        return new Args(argv[0], values);
    }

    String mode() {
        return mode;
    }

    /** Fails on any option the mode does not know. */
    Args requireKnown(Set<String> known) {
        for (String name : values.keySet()) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name + " for mode " + mode
                        + " (known: --" + String.join(", --", known) + ")");
            }
        }
        return this;
    }

    String text(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    long longValue(String name, long fallback) {
        String value = values.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, got '" + value + "'", e);
        }
    }

    int intValue(String name, int fallback) {
        long value = longValue(name, fallback);
        if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
            throw new IllegalArgumentException("--" + name + " is out of range: " + value);
        }
        return (int) value;
    }

    double doubleValue(String name, double fallback) {
        String value = values.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number, got '" + value + "'", e);
        }
    }

    boolean flag(String name) {
        String value = values.get(name);
        if (value == null) {
            return false;
        }
        if (value.equals("true") || value.equals("false")) {
            return Boolean.parseBoolean(value);
        }
        throw new IllegalArgumentException("--" + name + " is a flag (true or false), got '" + value + "'");
    }
}
