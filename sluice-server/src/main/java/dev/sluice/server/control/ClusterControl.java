package dev.sluice.server.control;

import dev.sluice.core.RevisionId;

/**
 * What the control API asks of the replica set: it takes the handoff reports other replicas
 * send ({@code POST /v1/cluster/handoff}), and says how many pod slots are held for them.
 * Implemented by the cluster; null when Sluice runs alone.
 */
public interface ClusterControl {

    /** Applies a handoff report; null if applied, else why it was refused (a 400). */
    String handoff(String json);

    /** Pod slots of {@code revision} held now for requests other replicas run. */
    int heldForOthers(RevisionId revision);

    /** This replica's id. */
    String self();
}
