package dev.sluice.scaler;

import dev.sluice.core.RevisionId;

/**
 * Where the scaler reads a revision's demand. Sluice's own implementation reads the revision's
 * throttler in this process; with several Sluice replicas, one that asks the revision's owner
 * replica for the whole figure goes here instead, and the service above it is unchanged.
 */
@FunctionalInterface
public interface DemandSource {

    /**
     * The revision's demand now, or null when Sluice does not run it. Any thread but a proxy
     * event loop; may wait briefly (asking another replica, within a short timeout).
     *
     * @throws DemandUnavailable when the figure is another replica's and it cannot be asked now
     */
    RevisionDemand find(RevisionId id);
}
