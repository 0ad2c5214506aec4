package dev.balance.launcher;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Just enough PromQL reading to find the metric names an expression selects. */
final class PromQl {

    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "and", "or", "unless", "bool", "offset", "inf", "nan");
    private static final Pattern STRINGS = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*}");
    private static final Pattern RANGES = Pattern.compile("\\[[^]]*]");
    private static final Pattern GROUPINGS = Pattern.compile(
            "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*(\\s*\\()?");

    private PromQl() {
    }

    /** The metric names selected by an expression (function names, keywords and labels left out). */
    static Set<String> metricNames(String expression) {
        String text = STRINGS.matcher(expression).replaceAll("\"\"");
        text = MATCHERS.matcher(text).replaceAll(" ");
        text = RANGES.matcher(text).replaceAll(" ");
        text = GROUPINGS.matcher(text).replaceAll(" ");
        Set<String> names = new TreeSet<>();
        Matcher identifiers = IDENTIFIER.matcher(text);
        while (identifiers.find()) {
            boolean call = identifiers.group(1) != null;
            String name = identifiers.group().replace("(", "").trim();
            int start = identifiers.start();
            boolean partOfNumber = start > 0 && (Character.isDigit(text.charAt(start - 1)) || text.charAt(start - 1) == '.');
            if (!call && !partOfNumber && !KEYWORDS.contains(name.toLowerCase())) {
                names.add(name);
            }
        }
        return names;
    }
}
