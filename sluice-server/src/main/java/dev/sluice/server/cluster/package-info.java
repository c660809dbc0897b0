/**
 * Several Sluice replicas, one limit per pod. Start at {@link dev.sluice.server.cluster.Cluster}.
 *
 * <p>Each limited revision is owned by one live replica ({@link dev.sluice.server.cluster.OwnerFunction},
 * rendezvous hashing over the {@link dev.sluice.server.cluster.Membership}'s view), which holds its one
 * queue and does every reservation; the others forward its requests there
 * ({@link dev.sluice.server.proxy.Forwarding}); a replica that does not own a revision admits
 * nothing of it, and a forward that reaches it follows {@link dev.sluice.server.cluster.ForwardRule}.
 * When ownership moves, the old owner reports what it still runs
 * ({@link dev.sluice.server.cluster.HandoffReporter}) and the new owner holds those pod slots
 * ({@link dev.sluice.server.cluster.HandoffLedger}) until they end.
 */
package dev.sluice.server.cluster;
