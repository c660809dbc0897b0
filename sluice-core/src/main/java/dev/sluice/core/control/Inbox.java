package dev.sluice.core.control;

import java.util.function.Consumer;

/**
 * How a {@link RevisionWriter} hears back from work it started elsewhere (a readiness check
 * completing, a draining pod's last request ending): it posts an operation into its own
 * revision's inbox, to be applied later on the writer's thread like any other. The writer is
 * given this at construction and never sees threads, queues or the {@link StateManager}.
 */
@FunctionalInterface
interface Inbox {

    /** Queues {@code body} with no caller waiting for it. Safe from any thread. */
    void post(Operation operation, Consumer<RevisionWriter> body);
}
