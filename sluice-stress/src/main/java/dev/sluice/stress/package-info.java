/**
 * jcstress tests of the core's races, one class per race, each with its outcomes described in
 * plain words. Run them with {@code java -jar sluice-stress/target/jcstress.jar} (see the
 * README for the quick and the long mode).
 *
 * <p>Starting points: {@link dev.sluice.stress.TrackerStress} (per-pod breaker: reserve,
 * release, drain, remove, availability bit) and {@link dev.sluice.stress.BreakerStress}
 * (revision breaker: acquire, release, cancel) and {@link dev.sluice.stress.PriorityQueueStress}
 * (its queue of classes and tenants: release against a higher-class arrival, preemption,
 * cancel, expiry) and {@link dev.sluice.stress.InboxStress} (a revision's inbox: producers'
 * order, the writer's poll against an offer, the hand-off that schedules the next batch).
 */
package dev.sluice.stress;
