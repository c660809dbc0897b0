package dev.sluice.core.balance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The contract every policy keeps; one subclass per policy runs it. */
abstract class LoadBalancingPolicyContract {

    abstract PolicyKind kind();

    /** Whether the policy promises an even spread over idle pods. */
    boolean spreadsEvenly() {
        return true;
    }

    LoadBalancingPolicy policy = kind().create();

    static PodTable tableOf(int pods, int cc) {
        PodTable table = new PodTable(pods);
        for (int i = 0; i < pods; i++) {
            table.add("pod-" + i, "10.0.0." + i + ":80", PodState.READY, cc, 0);
        }
        return table;
    }

    @Test
    void reportsItsKind() {
        assertThat(policy.kind()).isEqualTo(kind());
    }

    @Test
    void neverExceedsAPodsCapacityAndFillsEverySlotBeforeGivingUp() {
        PodTable table = tableOf(10, 3);
        Map<PodTracker, Integer> held = new IdentityHashMap<>();
        for (int i = 0; i < 30; i++) {
            PodTracker t = policy.select(table);
            assertThat(t).as("pick %d of 30 free slots", i).isNotNull();
            held.merge(t, 1, Integer::sum);
        }
        assertThat(policy.select(table)).as("every slot is taken").isNull();
        assertThat(held).hasSize(10);
        held.forEach((t, n) -> {
            assertThat(n).isEqualTo(3);
            assertThat(t.inFlight()).isEqualTo(3);
        });
    }

    @Test
    void neverPicksAPodThatIsNotRoutable() {
        PodTable table = new PodTable(16);
        PodState[] states = {PodState.PENDING, PodState.READY, PodState.NOT_READY, PodState.RECOVERING, PodState.DRAINING};
        for (int i = 0; i < 15; i++) {
            PodState s = states[i % states.length];
            PodTracker t = table.add("pod-" + i, "h:" + i, s == PodState.PENDING ? PodState.PENDING : PodState.READY, 0, 0);
            if (s != PodState.READY && s != PodState.PENDING) {
                table.moveTo(t, s == PodState.RECOVERING ? PodState.NOT_READY : s, 0);
                if (s == PodState.RECOVERING) {
                    table.moveTo(t, PodState.RECOVERING, 0);
                }
            }
        }
        for (int i = 0; i < 2_000; i++) {
            PodTracker t = policy.select(table);
            assertThat(t).isNotNull();
            assertThat(t.state().isRoutable()).as("picked %s", t).isTrue();
            t.release();
        }
    }

    @Test
    void findsTheOnlyFreePodAmongManyFullOnesAndSkipsHoles() {
        PodTable table = tableOf(300, 1);
        List<PodTracker> all = table.trackers();
        for (int i = 0; i < 300; i += 3) {
            PodTracker t = all.get(i);
            table.moveTo(t, PodState.DRAINING, 1);
            table.remove(t, false, 1);
        }
        PodTracker free = all.get(200);
        for (PodTracker t : table.trackers()) {
            if (t != free) {
                assertThat(t.tryReserve()).isTrue();
            }
        }
        for (int i = 0; i < 50; i++) {
            PodTracker t = policy.select(table);
            assertThat(t).isSameAs(free);
            t.release();
        }
        assertThat(free.tryReserve()).isTrue();
        assertThat(policy.select(table)).isNull();
    }

    @Test
    void returnsNothingFromAnEmptyTable() {
        assertThat(policy.select(new PodTable(4))).isNull();
        PodTable pendingOnly = new PodTable(4);
        pendingOnly.add("p", "h:1", PodState.PENDING, 1, 0);
        assertThat(policy.select(pendingOnly)).isNull();
    }

    @Test
    void unlimitedPodsAlwaysHaveRoom() {
        PodTable table = tableOf(3, 0);
        for (int i = 0; i < 1_000; i++) {
            assertThat(policy.select(table)).isNotNull();
        }
        assertThat(table.trackers().stream().mapToInt(PodTracker::inFlight).sum()).isEqualTo(1_000);
    }

    @Test
    void spreadsLoadEvenlyOverIdlePods() {
        if (!spreadsEvenly()) {
            return;
        }
        int pods = 10;
        int picks = 100_000;
        PodTable table = tableOf(pods, 4);
        int[] counts = new int[pods];
        for (int i = 0; i < picks; i++) {
            PodTracker t = policy.select(table);
            counts[t.slot()]++;
            t.release();
        }
        double expected = (double) picks / pods;
        double chiSquare = 0;
        for (int c : counts) {
            chiSquare += (c - expected) * (c - expected) / expected;
        }
        // 9 degrees of freedom: 43 is the critical value at p = 1e-5; a fair spread is ~9.
        assertThat(chiSquare).as("chi-square of counts %s", Arrays.toString(counts)).isLessThan(43.0);
    }

    @Test
    void concurrentPicksNeverPutTwoRequestsOnACcOnePod() throws Exception {
        PodTable table = tableOf(8, 1);
        Map<PodTracker, AtomicInteger> holding = new IdentityHashMap<>();
        table.trackers().forEach(t -> holding.put(t, new AtomicInteger()));
        int threads = 4;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger served = new AtomicInteger();
        AtomicInteger missed = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < 50_000; i++) {
                        PodTracker t = policy.select(table);
                        if (t == null) {
                            // A scan is not a snapshot: pods freed behind it can be missed.
                            missed.incrementAndGet();
                            continue;
                        }
                        int now = holding.get(t).incrementAndGet();
                        if (now > 1) {
                            throw new AssertionError(now + " requests on cc=1 pod " + t);
                        }
                        holding.get(t).decrementAndGet();
                        t.release();
                        served.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            workers.add(th);
            th.start();
        }
        start.countDown();
        for (Thread th : workers) {
            th.join();
        }
        assertThat(failure.get()).isNull();
        assertThat(served.get() + missed.get()).isEqualTo(threads * 50_000);
        assertThat(served.get()).as("picks that found a pod").isGreaterThan(threads * 50_000 * 9 / 10);
        for (PodTracker t : table.trackers()) {
            assertThat(t.inFlight()).isZero();
            assertThat(table.availableHint(t.slot())).as("every pod is free again").isTrue();
        }
    }
}
