package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;

/**
 * Hooks through which the control path reports what it does; the server exports them as
 * Prometheus metrics. Called on writer threads: implementations must be quick and thread-safe.
 * Every method has an empty default.
 */
public interface ControlMetrics {

    ControlMetrics NONE = new ControlMetrics() { };

    /** How long an event waited in the revision's inbox before its writer took it. */
    default void inboxWait(RevisionId revision, long nanos) {
    }

    /** How long the writer spent applying one operation (e.g. {@code mutate-pod}). */
    default void processed(RevisionId revision, String operation, long nanos) {
    }

    /** Applying an operation threw; the revision backs off and reconciles. */
    default void writerFailure(RevisionId revision, String operation) {
    }

    default void stateTransition(RevisionId revision, PodState from, PodState to) {
    }

    default void readinessValidation(RevisionId revision, boolean passed) {
    }

    /** A draining pod was removed at its deadline with requests still in flight. */
    default void drainDeadlineExpired(RevisionId revision) {
    }

    /** After each batch of events: the table's fragmentation and its pods by state (indexed by ordinal). */
    default void tableUpdated(RevisionId revision, double fragmentationRatio, int[] podsByState) {
    }
}
