package dev.balance.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The samples of a Prometheus text exposition (format 0.0.4), parsed line by line. */
final class Exposition {

    record Sample(String name, Map<String, String> labels, double value) {
    }

    private final Map<String, List<Sample>> byName;

    private Exposition(Map<String, List<Sample>> byName) {
        this.byName = byName;
    }

    static Exposition parse(String text) {
        Map<String, List<Sample>> byName = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Sample sample = parseLine(line);
            byName.computeIfAbsent(sample.name(), n -> new ArrayList<>()).add(sample);
        }
        return new Exposition(byName);
    }

    boolean has(String name) {
        return byName.containsKey(name);
    }

    List<Sample> samples(String name) {
        return byName.getOrDefault(name, List.of());
    }

    java.util.Set<String> names() {
        return byName.keySet();
    }

    /** The sum of the samples of a name whose labels include all of {@code labels}. */
    double sum(String name, Map<String, String> labels) {
        return samples(name).stream()
                .filter(s -> s.labels().entrySet().containsAll(labels.entrySet()))
                .mapToDouble(Sample::value).sum();
    }

    private static Sample parseLine(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                String key = line.substring(i, eq).trim();
                int at = eq + 2; // past ="
                StringBuilder value = new StringBuilder();
                while (line.charAt(at) != '"') {
                    char c = line.charAt(at);
                    if (c == '\\') {
                        char next = line.charAt(++at);
                        value.append(next == 'n' ? '\n' : next);
                    } else {
                        value.append(c);
                    }
                    at++;
                }
                labels.put(key, value.toString());
                i = at + 1;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        String[] rest = line.substring(i).trim().split(" ");
        return new Sample(name, labels, parseValue(rest[0]));
    }

    private static double parseValue(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }
}
