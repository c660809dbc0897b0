package dev.sluice.server.runtime;

import dev.sluice.core.RevisionId;
import dev.sluice.scaler.DemandSource;
import dev.sluice.scaler.RevisionDemand;
import dev.sluice.server.proxy.Route;
import java.util.function.Supplier;

/**
 * The scaler's demand, read from this replica's running revisions: the same throttlers the
 * control API's {@code /v1/revisions} reads, so the two agree. With several replicas, the
 * revision's owner replica has the whole figure; a source that asks it wraps this one.
 * Reads a volatile snapshot; any thread.
 */
final class RegistryDemand implements DemandSource {

    private final Supplier<RevisionRegistry> registry;

    /** @param registry read on each call: the registry exists before its revisions run, not before this */
    RegistryDemand(Supplier<RevisionRegistry> registry) {
        this.registry = registry;
    }

    @Override
    public RevisionDemand find(RevisionId id) {
        RevisionRegistry r = registry.get();
        Route route = r == null ? null : r.get(id);
        if (route == null) {
            return null;
        }
        return new RevisionDemand(id, route.throttler().demand(), route.config().scaleToZeroGrace());
    }
}
