package dev.sluice.core.control;

import static dev.sluice.core.control.ControlTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseAccounting;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Requests routed from several threads while pods are added, made ready, drained, reused and
 * removed through the control path, with injected writer failures. At the end every request
 * was answered or rejected with a reason, no pod ever ran more than cc requests, nothing is
 * in flight, and every drained pod's slot was released.
 */
class ControlChurnTest {

    private static final int CC = 2;
    private static final int PODS = 6;
    private static final RevisionId REV = new RevisionId("default", "churn");
    /** Pod reports the writer applies (or fails) before the churn ends: four of them fail. */
    private static final int APPLIED = 100;

    @Test
    void churnWithWriterFailuresLosesNothing() throws Exception {
        ManualClock clock = new ManualClock();
        RevisionSettings settings = new RevisionSettings(CC, PODS, 200, PolicyKind.LEAST_CONNECTIONS,
                Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofMinutes(5));
        Random rnd = new Random(42);
        try (StateManager m = new StateManager(2, clock, ReadinessCheck.ALWAYS_READY, ControlMetrics.NONE)) {
            RevisionThrottler th = m.open(REV, settings);
            AtomicInteger injected = new AtomicInteger();
            AtomicInteger mutations = new AtomicInteger();
            // Every 25th applied pod report fails, from the 5th on: superseded reports are skipped
            // unapplied, so a random 1 in 50 could, on a fast machine, inject none in 3,000 steps.
            m.injectFaults(op -> {
                if (op.equals("mutate-pod") && mutations.incrementAndGet() % 25 == 5) {
                    injected.incrementAndGet();
                    throw new IllegalStateException("injected writer failure (expected by the test)");
                }
            });
            String[] ids = new String[PODS];
            for (int i = 0; i < PODS; i++) {
                ids[i] = "pod-" + i + "-gen0";
                m.report(new PodEvent(EventSource.POD, REV, ids[i], address(i), PodState.READY));
            }

            ExecutorService releasers = Executors.newFixedThreadPool(2);
            LeaseAccounting leases = new LeaseAccounting(th, CC, releasers);
            ExecutorService clients = Executors.newFixedThreadPool(3);
            int perClient = 4_000;
            for (int c = 0; c < 3; c++) {
                clients.execute(() -> {
                    for (int i = 0; i < perClient; i++) {
                        th.acquire(Long.MAX_VALUE / 2, leases.request());
                    }
                });
            }
            clients.shutdown();

            // The churn goes on until the writer has applied enough reports: on a busy machine the
            // 3,000 steps can be posted before it runs much, and they coalesce into a few.
            int generation = 0;
            for (int step = 0; step < 3_000 || !clients.isTerminated() || mutations.get() < APPLIED; step++) {
                int i = rnd.nextInt(PODS);
                switch (rnd.nextInt(7)) {
                    case 0 -> m.report(new PodEvent(EventSource.POD, REV, ids[i], address(i), PodState.NOT_READY));
                    case 1 -> m.report(new PodEvent(EventSource.POD, REV, ids[i], address(i), PodState.DRAINING));
                    case 2 -> m.report(new PodEvent(EventSource.DISCOVERY, REV, ids[i], address(i), PodState.READY));
                    case 3 -> { // the address is reused by a new pod
                        ids[i] = "pod-" + i + "-gen" + (++generation);
                        m.report(new PodEvent(EventSource.POD, REV, ids[i], address(i), PodState.READY));
                    }
                    case 4 -> m.removePod(REV, address(i));
                    case 5 -> {
                        clock.advance(Duration.ofMillis(200));
                        m.tick();
                    }
                    default -> m.report(new PodEvent(EventSource.POD, REV, ids[i], address(i), PodState.READY));
                }
                Thread.onSpinWait();
            }

            // Calm: no more faults, let any failed writer recover, every pod reports ready.
            m.injectFaults(op -> { });
            clock.advance(StateManager.MAX_BACKOFF);
            m.tick();
            for (int i = 0; i < PODS; i++) {
                m.report(new PodEvent(EventSource.POD, REV, ids[i], address(i), PodState.READY));
            }
            await(m.flush(REV));
            await().atMost(Duration.ofSeconds(60)).until(() -> leases.answered() == 3 * perClient);
            releasers.shutdown();
            assertThat(releasers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            clock.advance(settings.drainTimeout());
            m.tick();
            await(m.flush(REV));

            assertThat(leases.violation()).isNull();
            assertThat(leases.leased() + leases.rejected()).isEqualTo(3 * perClient);
            assertThat(leases.rejections().keySet()).isSubsetOf(Rejection.QUEUE_FULL);
            assertThat(injected.get()).as("faults were injected").isGreaterThanOrEqualTo(APPLIED / 25);
            assertThat(th.active()).isZero();
            assertThat(th.queued()).isZero();
            for (PodTracker t : th.table().trackers()) {
                assertThat(t.inFlight()).as("%s", t).isZero();
                assertThat(t.state()).as("no drained pod keeps its slot: %s", t).isNotEqualTo(PodState.DRAINING);
            }
            leases.holding().forEach((p, n) -> assertThat(n.get()).as("%s", p).isZero());
        }
    }

    private static String address(int i) {
        return "10.0.0." + (i + 1) + ":8080";
    }
}
