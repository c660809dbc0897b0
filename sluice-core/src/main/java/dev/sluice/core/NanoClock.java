package dev.sluice.core;

/**
 * A monotonic clock in nanoseconds. Everything in Sluice that waits, times out, sweeps or
 * backs off reads time through this interface, so tests run on {@link ManualClock} instead
 * of the wall clock. All timestamps in Sluice are in this one unit.
 */
@FunctionalInterface
public interface NanoClock {

    /** Current time in nanoseconds; only differences between two readings are meaningful. */
    long nanoTime();

    /** The system's monotonic clock ({@link System#nanoTime()}). */
    static NanoClock system() {
        return System::nanoTime;
    }
}
