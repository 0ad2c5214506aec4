package dev.balance.topology.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** The registry of currencies the service accepts, each with its number of decimal places. */
public final class Currencies {

    /** Currency codes are short upper-case tickers; the limit keeps store keys small. */
    public static final int CODE_LENGTH_MAX = 16;
    public static final int SCALE_MAX = 18;
    private static final Pattern CODE = Pattern.compile("[A-Z0-9]{2," + CODE_LENGTH_MAX + "}");

    private final Map<String, Integer> scales;

    private Currencies(Map<String, Integer> scales) {
        this.scales = Collections.unmodifiableMap(new LinkedHashMap<>(scales));
    }

    /** BTC 8, ETH 18, USDT 6, USDC 6. */
    public static Currencies defaults() {
        Map<String, Integer> scales = new LinkedHashMap<>();
        scales.put("BTC", 8);
        scales.put("ETH", 18);
        scales.put("USDT", 6);
        scales.put("USDC", 6);
        return new Currencies(scales);
    }

    /** A registry of exactly these currencies. */
    public static Currencies of(Map<String, Integer> scales) {
        scales.forEach(Currencies::check);
        return new Currencies(scales);
    }

    /**
     * The defaults plus the currencies of a spec like {@code "SOL:9,XRP:6"}; a listed currency
     * overrides the default scale. A blank spec gives the defaults.
     */
    public static Currencies defaultsPlus(String spec) {
        Map<String, Integer> scales = new LinkedHashMap<>(defaults().scales);
        if (spec != null && !spec.isBlank()) {
            for (String entry : spec.split(",")) {
                String[] parts = entry.trim().split(":");
                if (parts.length != 2) {
                    throw new IllegalArgumentException("currency entry must be CODE:SCALE, got '" + entry + "'");
                }
                int scale;
                try {
                    scale = Integer.parseInt(parts[1].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("currency scale must be a number, got '" + entry + "'");
                }
                String code = parts[0].trim();
                check(code, scale);
                scales.put(code, scale);
            }
        }
        return new Currencies(scales);
    }

    private static void check(String code, Integer scale) {
        if (code == null || !CODE.matcher(code).matches()) {
            throw new IllegalArgumentException("currency code must match " + CODE + ", got '" + code + "'");
        }
        if (scale == null || scale < 0 || scale > SCALE_MAX) {
            throw new IllegalArgumentException("scale of " + code + " must be 0.." + SCALE_MAX + ", got " + scale);
        }
    }

    public boolean contains(String code) {
        return code != null && scales.containsKey(code);
    }

    /** The scale of a registered currency; a caller asking for an unknown one has a bug. */
    public int scale(String code) {
        Integer scale = scales.get(code);
        if (scale == null) {
            throw new IllegalStateException("unknown currency " + code);
        }
        return scale;
    }

    public Map<String, Integer> scales() {
        return scales;
    }

    @Override
    public String toString() {
        return scales.toString();
    }
}
