package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Test doubles for the control path. */
final class ControlTestSupport {

    private ControlTestSupport() {
    }

    static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("operation did not complete: " + e, e);
        }
    }

    /** A readiness check whose answers the test gives, one pending future per call. */
    static final class ManualReadiness implements ReadinessCheck {
        final Map<String, CompletableFuture<Boolean>> pending = new ConcurrentHashMap<>();
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public CompletionStage<Boolean> check(RevisionId revision, String podId, String address) {
            calls.add(podId + "@" + address);
            return pending.computeIfAbsent(podId + "@" + address, k -> new CompletableFuture<>());
        }

        /** The check fails with a reason, as the HTTP check's refused connection does. */
        void fail(String podId, String address, String reason) {
            pending.computeIfAbsent(podId + "@" + address, k -> new CompletableFuture<>())
                    .completeExceptionally(new ReadinessCheck.Failed(reason));
        }

        void answer(String podId, String address, boolean ready) {
            pending.computeIfAbsent(podId + "@" + address, k -> new CompletableFuture<>()).complete(ready);
        }
    }

    /** Counts what the hooks report. */
    static final class RecordingMetrics implements ControlMetrics {
        final AtomicInteger validationsPassed = new AtomicInteger();
        final AtomicInteger validationsFailed = new AtomicInteger();
        final AtomicInteger writerFailures = new AtomicInteger();
        final AtomicInteger drainDeadlines = new AtomicInteger();
        final AtomicInteger inboxWaits = new AtomicInteger();
        final List<String> transitions = new CopyOnWriteArrayList<>();
        final Map<String, AtomicInteger> processed = new ConcurrentHashMap<>();
        volatile double fragmentation;
        volatile int[] podsByState = new int[PodState.values().length];

        @Override
        public void inboxWait(RevisionId revision, long nanos) {
            inboxWaits.incrementAndGet();
        }

        @Override
        public void processed(RevisionId revision, String operation, long nanos) {
            processed.computeIfAbsent(operation, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void writerFailure(RevisionId revision, String operation) {
            writerFailures.incrementAndGet();
        }

        @Override
        public void stateTransition(RevisionId revision, PodState from, PodState to) {
            transitions.add(from + "->" + to);
        }

        @Override
        public void readinessValidation(RevisionId revision, boolean passed) {
            (passed ? validationsPassed : validationsFailed).incrementAndGet();
        }

        @Override
        public void drainDeadlineExpired(RevisionId revision) {
            drainDeadlines.incrementAndGet();
        }

        @Override
        public void tableUpdated(RevisionId revision, double fragmentationRatio, int[] podsByState) {
            this.fragmentation = fragmentationRatio;
            this.podsByState = podsByState;
        }
    }
}
