package dev.sluice.server.config;

/**
 * A configuration that cannot be used: says which file, which field and why, in one line a
 * person can act on.
 */
public final class ConfigException extends Exception {

    private final String file;
    private final String field;
    private final String reason;

    public ConfigException(String file, String field, String reason) {
        super(file + ": " + (field.isEmpty() ? "" : field + ": ") + reason);
        this.file = file;
        this.field = field;
        this.reason = reason;
    }

    public String file() {
        return file;
    }

    /** Dotted path of the field, e.g. {@code revisions[0].containerConcurrency}; empty for the whole file. */
    public String field() {
        return field;
    }

    public String reason() {
        return reason;
    }
}
