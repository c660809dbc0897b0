package dev.sluice.core.pod;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * A pod's lifecycle state. Only {@link #READY} and {@link #RECOVERING} are routable.
 *
 * <h2>Allowed transitions (the one place they are defined)</h2>
 * <pre>
 *   PENDING    → READY, NOT_READY, DRAINING, REMOVED
 *   READY      → NOT_READY, DRAINING, RECOVERING
 *   RECOVERING → READY, NOT_READY, DRAINING
 *   NOT_READY  → READY, RECOVERING, DRAINING, REMOVED
 *   DRAINING   → READY, REMOVED
 *   REMOVED    → (terminal)
 * </pre>
 * Staying in the same state is always allowed and changes nothing. A routable pod is never
 * removed directly: it is drained (or marked not ready) first, so its in-flight requests
 * finish on it. {@code DRAINING → READY} exists only for a pod's own report (it cancelled
 * its shutdown); discovery cannot undo a pod's drain (the control path enforces this).
 * {@code READY → RECOVERING} marks a pod that failed and passed its readiness check again
 * and is on probation; it stays routable throughout.
 */
public enum PodState {
    /** Known but not yet ready: starting, or being validated. Not routable. */
    PENDING,
    /** Ready and routable. */
    READY,
    /** Routable again after a failure, on probation. */
    RECOVERING,
    /** Failing its readiness check or reported not ready. Not routable; may still finish in-flight work. */
    NOT_READY,
    /** Shutting down: receives nothing new, finishes what it has. */
    DRAINING,
    /** Gone from the table. Terminal. */
    REMOVED;

    private static final PodState[] VALUES = values();

    /** Bit i set = the state with ordinal i is routable. */
    static final int ROUTABLE_MASK = (1 << READY.ordinal()) | (1 << RECOVERING.ordinal());

    private Set<PodState> next;

    static {
        PENDING.next = EnumSet.of(READY, NOT_READY, DRAINING, REMOVED);
        READY.next = EnumSet.of(NOT_READY, DRAINING, RECOVERING);
        RECOVERING.next = EnumSet.of(READY, NOT_READY, DRAINING);
        NOT_READY.next = EnumSet.of(READY, RECOVERING, DRAINING, REMOVED);
        DRAINING.next = EnumSet.of(READY, REMOVED);
        REMOVED.next = EnumSet.noneOf(PodState.class);
    }

    /** Whether requests may be sent to a pod in this state. */
    public boolean isRoutable() {
        return (ROUTABLE_MASK >>> ordinal() & 1) != 0;
    }

    /** Whether a pod in this state may move to {@code target} (same state included). */
    public boolean canMoveTo(PodState target) {
        return this == target || next.contains(target);
    }

    static PodState ofOrdinal(int ordinal) {
        return VALUES[ordinal];
    }

    /** The lower-case name used on the wire and in metrics, e.g. {@code not-ready}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Parses a wire name ({@code ready}, {@code not-ready}, {@code NOT_READY}…).
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static PodState parse(String text) {
        if (text != null) {
            String normal = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            for (PodState s : VALUES) {
                if (s.name().equals(normal)) {
                    return s;
                }
            }
        }
        throw new IllegalArgumentException("unknown pod state '" + text
                + "': expected one of pending, ready, recovering, not-ready, draining, removed");
    }
}
