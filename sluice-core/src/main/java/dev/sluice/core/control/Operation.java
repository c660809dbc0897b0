package dev.sluice.core.control;

/**
 * The operations a revision's writer applies, each named once: the name is what metrics
 * ({@link ControlMetrics#processed}, {@link ControlMetrics#writerFailure}) and logs call it.
 * The body of each is a method of {@link RevisionWriter}.
 */
enum Operation {
    // Submitted through StateManager's public methods.
    MUTATE_POD("mutate-pod"),
    REMOVE_POD("remove-pod"),
    UPDATE_CAPACITY("update-capacity"),
    POD_UNREACHABLE("pod-unreachable"),
    RECALCULATE("recalculate"),
    SWEEP("sweep"),
    /** Reads only: it changes neither the table nor the pods' records (the mailbox relies on it, see "Joining"). */
    FLUSH("flush"),
    CLOSE("close"),
    // Posted back by the writer's own asynchronous work (through its Inbox).
    DRAIN_COMPLETED("drain-completed"),
    VALIDATION_DONE("validation-done"),
    RECOVERY_PROBE_DONE("recovery-probe-done"),
    // Run by the mailbox after a failure's backoff, before the held operations.
    RECONCILE("reconcile");

    private final String label;

    Operation(String label) {
        this.label = label;
    }

    /** The name metrics and logs use, e.g. {@code mutate-pod}. */
    String label() {
        return label;
    }

    @Override
    public String toString() {
        return label;
    }
}
