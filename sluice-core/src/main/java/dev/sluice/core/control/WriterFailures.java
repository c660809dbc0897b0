package dev.sluice.core.control;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Writer failures across every revision of one {@link StateManager}: their count, and for
 * tests a hook run before each operation whose throwing simulates a writer bug.
 *
 * <h2>Implementation notes</h2>
 * Shared by all worker threads: the count is an {@link AtomicInteger}; the hook is a volatile
 * reference a test swaps while workers run (a worker sees the new hook from its next
 * operation on).
 */
final class WriterFailures {

    private static final Consumer<String> NO_FAULTS = op -> { };

    private final AtomicInteger count = new AtomicInteger();
    private volatile Consumer<String> beforeOperation = NO_FAULTS;

    /** Runs the test hook with the operation's name; it may throw. */
    void beforeOperation(Operation operation) {
        beforeOperation.accept(operation.label());
    }

    void inject(Consumer<String> hook) {
        this.beforeOperation = Objects.requireNonNull(hook);
    }

    void counted() {
        count.incrementAndGet();
    }

    int count() {
        return count.get();
    }
}
