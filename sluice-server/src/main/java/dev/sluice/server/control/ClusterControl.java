package dev.sluice.server.control;

import dev.sluice.core.RevisionId;

/**
 * What the control API asks of the replica set: it takes the handoff reports other replicas
 * send ({@code POST /v1/cluster/handoff}), and says how many pod slots are held for them; for
 * KEDA's external scaler it gives this replica's demand figure ({@code GET /v1/cluster/demand})
 * and takes the others' activity notices ({@code POST /v1/cluster/active}).
 * Implemented by the cluster; null when Sluice runs alone.
 */
public interface ClusterControl {

    /** Applies a handoff report; null if applied, else why it was refused (a 400). */
    String handoff(String json);

    /** Pod slots of {@code revision} held now for requests other replicas run. */
    int heldForOthers(RevisionId revision);

    /**
     * This replica's own demand for the revision as JSON, or null when it does not run it or the
     * scaler is off. Reads this replica only.
     */
    String demand(RevisionId revision);

    /** Applies another replica's notice that a revision went active there; null if applied, else why not (a 400). */
    String activated(String json);

    /** This replica's id. */
    String self();
}
