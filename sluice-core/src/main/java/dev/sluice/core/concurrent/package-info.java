/**
 * Concurrent building blocks the control path shares, each with its threading contract in its
 * name.
 *
 * <p>Start with {@link dev.sluice.core.concurrent.MpscFutureQueue}: the revision's inbox, a
 * lock-free queue of many producers and one consumer whose nodes are the callers' futures
 * themselves, so posting an operation allocates one object. Then
 * {@link dev.sluice.core.concurrent.JoinableNode}: a node of that queue that later elements
 * (a pod's later reports) may join while it waits, racing only the consumer's take.
 */
package dev.sluice.core.concurrent;
