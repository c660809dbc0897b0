package dev.sluice.scaler;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.Demand;
import java.time.Duration;
import java.util.Objects;

/**
 * One revision's demand as the scaler reads it.
 *
 * @param scaleToZeroGrace how long demand must have been zero before the revision is reported
 *                         inactive (KEDA then scales it to zero)
 * @param relayed          the owner replica's answer to {@code IsActive} when this replica relays
 *                         another's figure; null when the answer is decided here
 */
public record RevisionDemand(RevisionId id, Demand demand, Duration scaleToZeroGrace, Boolean relayed) {

    public RevisionDemand {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(demand, "demand");
        Objects.requireNonNull(scaleToZeroGrace, "scaleToZeroGrace");
    }

    /** A figure read in this replica: its answer is decided here. */
    public RevisionDemand(RevisionId id, Demand demand, Duration scaleToZeroGrace) {
        this(id, demand, scaleToZeroGrace, null);
    }
}
