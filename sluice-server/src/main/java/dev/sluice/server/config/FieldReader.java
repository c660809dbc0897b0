package dev.sluice.server.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * What every reader of a part of {@code sluice.yaml} shares: the file's name, one list of
 * problems (a problem in one field does not stop the others being read: every problem of a file
 * is reported at once, each with its path), and the field helpers that check a value's type and
 * range. The readers of one file share its list. One reader per file read, on one thread.
 */
abstract class FieldReader {

    final String file;
    /** Problems found so far, shared by the readers of one file. */
    final List<ConfigException> problems;

    FieldReader(String file, List<ConfigException> problems) {
        this.file = file;
        this.problems = problems;
    }

    final ConfigException error(String field, String reason) {
        return new ConfigException(file, field, reason);
    }

    /** Records a problem and goes on with {@code dflt} in the field's place. */
    final <T> T invalid(String field, String reason, T dflt) {
        problems.add(error(field, reason));
        return dflt;
    }

    interface Part<T> {
        T read() throws ConfigException;
    }

    /** Reads a part whose problem makes the rest of it meaningless; null if it had one. */
    final <T> T part(Part<T> part) {
        try {
            return part.read();
        } catch (ConfigException e) {
            problems.add(e);
            return null;
        }
    }

    /** @throws ConfigException with every problem found, if there was one */
    final void finish() throws ConfigException {
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    interface Parse<T> {
        T get();
    }

    <T> T parsed(String at, Parse<T> parse) throws ConfigException {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw error(at, e.getMessage());
        }
    }

    void object(JsonNode node, String at, Set<String> known) throws ConfigException {
        if (!node.isObject()) {
            throw error(at, "must be a mapping of " + new TreeSet<>(known));
        }
        Iterator<String> names = node.propertyNames().iterator();
        while (names.hasNext()) {
            String n = names.next();
            if (!known.contains(n)) {
                invalid(at.isEmpty() ? n : at + "." + n, "unknown field (known here: "
                        + String.join(", ", new TreeSet<>(known)) + ")", null);
            }
        }
    }

    JsonNode optionalObject(JsonNode parent, String at, String key, Set<String> known)
            throws ConfigException {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return Yaml.MAPPER.createObjectNode();
        }
        object(n, at, known);
        return n;
    }

    /** A scalar's text, or "" for a mapping or a list (where Jackson 3's {@code asString()} throws). */
    static String text(JsonNode n) {
        return n.asString("");
    }

    String string(JsonNode parent, String at, String key, String dflt) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isValueNode() || n.isBoolean()) {
            return invalid(at, "must be a string", dflt);
        }
        return text(n);
    }

    List<String> strings(JsonNode parent, String at, String key) {
        JsonNode n = parent.get(key);
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isArray()) {
            return invalid(at, "must be a list of strings", out);
        }
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isString() || n.get(i).asString().isBlank()) {
                invalid(at + "[" + i + "]", "must be a non-empty string", null);
                continue;
            }
            out.add(n.get(i).asString().toLowerCase(Locale.ROOT));
        }
        return out;
    }

    boolean bool(JsonNode parent, String at, String key, boolean dflt) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            return invalid(at, "must be true or false, was '" + text(n) + "'", dflt);
        }
        return n.booleanValue();
    }

    int integer(JsonNode parent, String at, String key, int dflt, int min, int max) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            return invalid(at, "must be a whole number, was '" + text(n) + "'", dflt);
        }
        int v = n.intValue();
        if (v < min || v > max) {
            return invalid(at, "must be between " + min + " and " + max + ", was " + v, dflt);
        }
        return v;
    }

    Duration duration(JsonNode parent, String at, String key, Duration dflt, boolean zeroAllowed) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        Duration d;
        try {
            d = Durations.parse(text(n));
        } catch (IllegalArgumentException e) {
            return invalid(at, e.getMessage(), dflt);
        }
        if (d.isNegative() || (!zeroAllowed && d.isZero())) {
            return invalid(at, "must be " + (zeroAllowed ? "zero or more" : "positive") + ", was " + text(n),
                    dflt);
        }
        return d;
    }

    ListenAddress listen(JsonNode parent, String at, String key, String dflt) {
        String text = string(parent, at, key, dflt);
        try {
            return ListenAddress.parse(text);
        } catch (IllegalArgumentException e) {
            return invalid(at, e.getMessage(), ListenAddress.parse(dflt));
        }
    }
}
