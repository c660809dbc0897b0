package dev.sluice.core.throttle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.NanoClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Many threads route requests while one writer makes pods ready, not ready, draining, removed
 * and new. At the end every request was answered exactly once, no pod ever held more than cc
 * requests, and every token and slot is back.
 */
class ThrottlerChurnTest {

    private static final int CC = 2;

    @ParameterizedTest
    @EnumSource(PolicyKind.class)
    void everyRequestIsAnsweredAndNothingLeaks(PolicyKind kind) throws Exception {
        PodTable table = new PodTable(16);
        RevisionThrottler th = new RevisionThrottler(table, kind.create(), CC, 64, NanoClock.system());
        AtomicInteger nextPod = new AtomicInteger();
        for (int i = 0; i < 8; i++) {
            addPod(table, nextPod);
        }
        th.updateCapacity();

        ExecutorService releasers = Executors.newFixedThreadPool(2);
        LeaseAccounting leases = new LeaseAccounting(th, CC, releasers);
        ExecutorService clients = Executors.newFixedThreadPool(4);
        int perClient = 5_000;

        for (int c = 0; c < 4; c++) {
            clients.execute(() -> {
                for (int i = 0; i < perClient; i++) {
                    th.acquire(System.nanoTime() + TimeUnit.SECONDS.toNanos(30), leases.request());
                }
            });
        }

        // The single writer: churn until the clients are done.
        clients.shutdown();
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        while (!clients.isTerminated()) {
            List<PodTracker> pods = table.trackers();
            PodTracker p = pods.get(rnd.nextInt(pods.size()));
            switch (rnd.nextInt(6)) {
                case 0 -> moveIfAllowed(table, p, PodState.NOT_READY);
                case 1 -> moveIfAllowed(table, p, PodState.READY);
                case 2 -> moveIfAllowed(table, p, PodState.DRAINING);
                case 3 -> {
                    if (!p.state().isRoutable() && table.size() > 2) {
                        table.remove(p, false, System.nanoTime());
                    }
                }
                case 4 -> {
                    if (table.size() < 16) {
                        addPod(table, nextPod);
                    }
                }
                default -> th.expireOverdue();
            }
            th.updateCapacity();
            Thread.onSpinWait();
        }
        for (PodTracker p : table.trackers()) {
            moveIfAllowed(table, p, PodState.READY);
        }
        th.updateCapacity();

        await().atMost(Duration.ofSeconds(60)).until(() -> leases.answered() == 4 * perClient);
        releasers.shutdown();
        assertThat(releasers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

        assertThat(leases.violation()).isNull();
        assertThat(leases.leased() + leases.rejected()).isEqualTo(4 * perClient);
        assertThat(leases.leased()).as("requests were served").isPositive();
        assertThat(th.active()).isZero();
        assertThat(th.queued()).isZero();
        for (PodTracker p : table.trackers()) {
            assertThat(p.inFlight()).as("%s", p).isZero();
        }
        leases.holding().forEach((p, n) -> assertThat(n.get()).as("%s", p).isZero());
    }

    private static void addPod(PodTable table, AtomicInteger next) {
        int i = next.getAndIncrement();
        table.add("pod-" + i, "10.0." + (i >> 8) + '.' + (i & 255) + ":80", PodState.READY, CC, System.nanoTime());
    }

    private static void moveIfAllowed(PodTable table, PodTracker p, PodState target) {
        if (p.state().canMoveTo(target)) {
            table.moveTo(p, target, System.nanoTime());
        }
    }
}
