package dev.sluice.server.config;

import dev.sluice.core.control.CheckScheduler;

/**
 * How many readiness checks run at once ({@code control.readinessChecks}): at most
 * {@code maxInFlight} in the process and {@code maxInFlightPerRevision} per revision; the rest
 * wait their turn, revisions taking turns (core's {@link CheckScheduler}).
 */
public record ReadinessChecks(int maxInFlight, int maxInFlightPerRevision) {

    public static final ReadinessChecks DEFAULTS = new ReadinessChecks(CheckScheduler.DEFAULT_MAX_IN_FLIGHT,
            CheckScheduler.DEFAULT_MAX_IN_FLIGHT_PER_REVISION);

    /** The most either bound may be set to. */
    public static final int MAX = 100_000;
}
