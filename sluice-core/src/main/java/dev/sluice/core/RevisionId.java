package dev.sluice.core;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A revision's identity: Kubernetes namespace and revision name, each a DNS-1123 label.
 * Written {@code namespace/name}.
 */
public record RevisionId(String namespace, String name) {

    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    /** @throws IllegalArgumentException naming the part that is not a DNS-1123 label */
    public RevisionId {
        check("namespace", namespace);
        check("name", name);
    }

    private static void check(String what, String value) {
        Objects.requireNonNull(value, what);
        if (!LABEL.matcher(value).matches()) {
            throw new IllegalArgumentException("revision " + what + " '" + value
                    + "' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63)");
        }
    }

    /**
     * Parses {@code namespace/name}.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static RevisionId parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash < 0 || slash != text.lastIndexOf('/')) {
            throw new IllegalArgumentException("revision '" + text + "' must be written namespace/name");
        }
        return new RevisionId(text.substring(0, slash), text.substring(slash + 1));
    }

    @Override
    public String toString() {
        return namespace + '/' + name;
    }
}
