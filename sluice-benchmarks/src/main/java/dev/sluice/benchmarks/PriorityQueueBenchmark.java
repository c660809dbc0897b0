package dev.sluice.benchmarks;

import dev.sluice.core.NanoClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.QueuePolicy;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The queued path with classes and tenants: one pod with cc = 1 always busy, a queue held at
 * {@code queued} waiters spread over 3 classes × {@code tenants} tenants (weights 1–3). One
 * operation is one enqueue (a request of the next class and tenant in turn) and one dequeue
 * (the running request ends and the queue's choice is handed the pod), so the queue's size
 * stays put. The allocation per operation is the waiter's node, plus a tenant's lane when a
 * tenant's last waiter leaves and it comes back.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class PriorityQueueBenchmark {

    private static final int CLASSES = 3;

    @Param({"100"})
    public int tenants;

    @Param({"300", "3000"})
    public int queued;

    private RevisionThrottler throttler;
    private String[] names;
    private PodTracker held;
    private int next;
    private final long deadline = Long.MAX_VALUE / 2;

    /** Every waiter shares this listener: the one handed the pod becomes the running request. */
    private final LeaseListener listener = new LeaseListener() {
        @Override
        public void onLease(PodTracker pod) {
            held = pod;
        }

        @Override
        public void onReject(Rejection reason) {
            throw new IllegalStateException("the benchmark's queue refused a request: " + reason);
        }
    };

    @Setup(Level.Trial)
    public void setUp() {
        PodTable table = new PodTable(1);
        table.add("pod", "10.0.0.1:8080", PodState.READY, 1, 0);
        throttler = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), 1, queued + 1,
                NanoClock.system());
        throttler.updateCapacity();
        names = new String[tenants];
        Map<String, Integer> weights = new HashMap<>();
        for (int i = 0; i < tenants; i++) {
            names[i] = "tenant-" + i;
            weights.put(names[i], 1 + i % 3);
        }
        throttler.setQueuePolicy(new QueuePolicy(Integer.MAX_VALUE, false, weights, 1));
        held = throttler.tryAcquire();
        for (int i = 0; i < queued; i++) {
            arrive();
        }
    }

    private void arrive() {
        int n = next++;
        throttler.acquire(deadline, listener, n % CLASSES, names[(n / CLASSES) % tenants]);
    }

    @Benchmark
    public PodTracker enqueueDequeue() {
        arrive();
        PodTracker running = held;
        throttler.release(running);
        return held;
    }
}
