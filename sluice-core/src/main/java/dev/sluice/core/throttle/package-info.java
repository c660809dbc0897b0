/**
 * Admission for a revision: the revision breaker (capacity = cc × routable pods, a bounded
 * queue of waiters) in front of the load-balancing policy. The queue
 * ({@link dev.sluice.core.throttle.PriorityWaiterQueue}) serves the highest priority class
 * first, tenants within a class by deficit round robin ({@link dev.sluice.core.throttle.QueuePolicy}
 * holds their weights, the per-tenant cap and preemption), and each tenant in FIFO order.
 *
 * <p>Start with {@link dev.sluice.core.throttle.RevisionThrottler}: {@code acquire} gives a
 * request a lease on one pod (through {@link dev.sluice.core.throttle.LeaseListener}) or a
 * {@link dev.sluice.core.throttle.Rejection}; {@code release} returns the pod's slot and then
 * the revision token, which goes to the next waiter. Nothing here blocks a thread: a request
 * that has to wait is a {@link dev.sluice.core.throttle.Pending} node in the queue, completed
 * by whichever thread frees capacity.
 */
package dev.sluice.core.throttle;
