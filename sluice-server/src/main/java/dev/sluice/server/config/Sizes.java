package dev.sluice.server.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses byte sizes as operators write them: {@code 1048576}, {@code 64KiB}, {@code 1MiB}, {@code 1GiB} (also {@code k}, {@code m}, {@code g}, as nginx does). */
public final class Sizes {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(b|k|kib|m|mib|g|gib)?");

    private Sizes() {
    }

    /** @throws IllegalArgumentException saying what forms are accepted */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text.trim().toLowerCase(Locale.ROOT));
        if (m.matches() && m.group(1).length() < 12) {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "b" : m.group(2);
            return switch (unit.charAt(0)) {
                case 'k' -> n << 10;
                case 'm' -> n << 20;
                case 'g' -> n << 30;
                default -> n;
            };
        }
        throw new IllegalArgumentException("'" + text + "' is not a size: write e.g. 0, 65536, 64KiB or 1MiB");
    }

    /** The shortest binary form: {@code 1MiB}, {@code 64KiB}, or bytes. */
    public static String format(long bytes) {
        if (bytes > 0 && bytes % (1 << 30) == 0) {
            return (bytes >> 30) + "GiB";
        }
        if (bytes > 0 && bytes % (1 << 20) == 0) {
            return (bytes >> 20) + "MiB";
        }
        if (bytes > 0 && bytes % (1 << 10) == 0) {
            return (bytes >> 10) + "KiB";
        }
        return Long.toString(bytes);
    }
}
