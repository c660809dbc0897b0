package dev.sluice.core.control;

import static dev.sluice.core.control.ControlTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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

    @Test
    void churnWithWriterFailuresLosesNothing() throws Exception {
        ManualClock clock = new ManualClock();
        RevisionSettings settings = new RevisionSettings(CC, PODS, 200, PolicyKind.LEAST_CONNECTIONS,
                Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofMinutes(5));
        Random rnd = new Random(42);
        try (StateManager m = new StateManager(2, clock, ReadinessCheck.ALWAYS_READY, ControlMetrics.NONE)) {
            RevisionThrottler th = m.open(REV, settings);
            AtomicInteger injected = new AtomicInteger();
            m.injectFaults(op -> {
                if (op.equals("mutate-pod") && rnd.nextInt(50) == 0) {
                    injected.incrementAndGet();
                    throw new IllegalStateException("injected writer failure (expected by the test)");
                }
            });
            String[] ids = new String[PODS];
            for (int i = 0; i < PODS; i++) {
                ids[i] = "pod-" + i + "-gen0";
                m.report(new PodEvent(EventSource.POD, REV, ids[i], address(i), PodState.READY));
            }

            Map<PodTracker, AtomicInteger> holding = new ConcurrentHashMap<>();
            AtomicReference<String> violation = new AtomicReference<>();
            AtomicInteger answered = new AtomicInteger();
            AtomicInteger leased = new AtomicInteger();
            Map<Rejection, AtomicInteger> rejections = new ConcurrentHashMap<>();
            ExecutorService releasers = Executors.newFixedThreadPool(2);
            ExecutorService clients = Executors.newFixedThreadPool(3);
            int perClient = 4_000;
            for (int c = 0; c < 3; c++) {
                clients.execute(() -> {
                    for (int i = 0; i < perClient; i++) {
                        th.acquire(Long.MAX_VALUE / 2, new LeaseListener() {
                            @Override
                            public void onLease(PodTracker pod) {
                                int n = holding.computeIfAbsent(pod, p -> new AtomicInteger()).incrementAndGet();
                                if (n > CC) {
                                    violation.compareAndSet(null, n + " requests on " + pod);
                                }
                                if (!pod.state().isRoutable() && pod.state() != PodState.DRAINING
                                        && pod.state() != PodState.NOT_READY) {
                                    violation.compareAndSet(null, "leased a pod in state " + pod.state());
                                }
                                leased.incrementAndGet();
                                answered.incrementAndGet();
                                releasers.execute(() -> {
                                    holding.get(pod).decrementAndGet();
                                    th.release(pod);
                                });
                            }

                            @Override
                            public void onReject(Rejection reason) {
                                rejections.computeIfAbsent(reason, r -> new AtomicInteger()).incrementAndGet();
                                answered.incrementAndGet();
                            }
                        });
                    }
                });
            }
            clients.shutdown();

            int generation = 0;
            for (int step = 0; step < 3_000 || !clients.isTerminated(); step++) {
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
            await().atMost(Duration.ofSeconds(60)).until(() -> answered.get() == 3 * perClient);
            releasers.shutdown();
            assertThat(releasers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            clock.advance(settings.drainTimeout());
            m.tick();
            await(m.flush(REV));

            assertThat(violation.get()).isNull();
            int rejected = rejections.values().stream().mapToInt(AtomicInteger::get).sum();
            assertThat(leased.get() + rejected).isEqualTo(3 * perClient);
            assertThat(rejections.keySet()).isSubsetOf(Rejection.QUEUE_FULL);
            assertThat(injected.get()).as("faults were injected").isPositive();
            assertThat(th.active()).isZero();
            assertThat(th.queued()).isZero();
            for (PodTracker t : th.table().trackers()) {
                assertThat(t.inFlight()).as("%s", t).isZero();
                assertThat(t.state()).as("no drained pod keeps its slot: %s", t).isNotEqualTo(PodState.DRAINING);
            }
            holding.forEach((p, n) -> assertThat(n.get()).as("%s", p).isZero());
        }
    }

    private static String address(int i) {
        return "10.0.0." + (i + 1) + ":8080";
    }
}
