package dev.sluice.server.config;

import java.util.List;

/**
 * A configuration that cannot be used: says which file, which field and why, in one line a
 * person can act on. When a file has several problems they are all in {@link #problems()}, one
 * line each in the message; {@link #file()}, {@link #field()} and {@link #reason()} are the
 * first one's.
 */
public final class ConfigException extends Exception {

    private final String file;
    private final String field;
    private final String reason;
    private final List<ConfigException> problems;

    public ConfigException(String file, String field, String reason) {
        super(file + ": " + (field.isEmpty() ? "" : field + ": ") + reason);
        this.file = file;
        this.field = field;
        this.reason = reason;
        this.problems = List.of(this);
    }

    /** Several problems of one file, in the order they were found (at least one). */
    public ConfigException(List<ConfigException> problems) {
        super(String.join("\n", problems.stream().map(Throwable::getMessage).toList()));
        ConfigException first = problems.get(0);
        this.file = first.file;
        this.field = first.field;
        this.reason = first.reason;
        this.problems = problems.size() == 1 ? List.of(this) : List.copyOf(problems);
    }

    /** Every problem found, each with its own file, field and reason. */
    public List<ConfigException> problems() {
        return problems;
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
