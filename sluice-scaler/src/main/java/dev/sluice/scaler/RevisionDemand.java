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
 */
public record RevisionDemand(RevisionId id, Demand demand, Duration scaleToZeroGrace) {

    public RevisionDemand {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(demand, "demand");
        Objects.requireNonNull(scaleToZeroGrace, "scaleToZeroGrace");
    }
}
