package dev.sluice.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when told to: for tests of timeouts, sweeps and backoff on fake
 * time. Safe to read and advance from any thread.
 */
public final class ManualClock implements NanoClock {

    private final AtomicLong now;

    public ManualClock() {
        this(0L);
    }

    public ManualClock(long startNanos) {
        this.now = new AtomicLong(startNanos);
    }

    @Override
    public long nanoTime() {
        return now.get();
    }

    /** Moves the clock forward and returns the new time. */
    public long advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("a monotonic clock cannot go back: " + by);
        }
        return now.addAndGet(by.toNanos());
    }
}
