package dev.sluice.benchmarks;

import dev.sluice.core.NanoClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole admission cycle, uncontended (a token and a pod slot always free): revision
 * breaker, policy pick, pod reservation, then release of both. {@code acquireRelease} goes
 * through the asynchronous API the server uses (a listener the caller already holds);
 * {@code tryAcquireRelease} through the synchronous one; {@code acquireReleaseClassed} passes a
 * priority class and a tenant, as the server does for a revision with a {@code queueing}
 * section (they matter only to waiters, so it must cost the same). The {@code _2threads} variants run
 * the same on two threads sharing one revision.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ThrottlerBenchmark {

    @Param({"10"})
    public int pods;

    @Param({"ROUND_ROBIN", "FIRST_AVAILABLE"})
    public PolicyKind policy;

    private RevisionThrottler throttler;
    private long deadline;

    @Setup(Level.Trial)
    public void setUp() {
        PodTable table = new PodTable(pods);
        for (int i = 0; i < pods; i++) {
            table.add("pod-" + i, "10.0.0." + i + ":8080", PodState.READY, 100, 0);
        }
        throttler = new RevisionThrottler(table, policy.create(), 100, 10_000, NanoClock.system());
        throttler.updateCapacity();
        deadline = Long.MAX_VALUE / 2;
    }

    /** The caller's per-request object, as the server's is: allocated once, reused. */
    @State(Scope.Thread)
    public static class Request implements LeaseListener {
        PodTracker pod;

        @Override
        public void onLease(PodTracker pod) {
            this.pod = pod;
        }

        @Override
        public void onReject(Rejection reason) {
            throw new IllegalStateException("uncontended benchmark was rejected: " + reason);
        }
    }

    @Benchmark
    public PodTracker acquireRelease(Request r) {
        throttler.acquire(deadline, r);
        PodTracker pod = r.pod;
        throttler.release(pod);
        return pod;
    }

    @Benchmark
    public PodTracker acquireReleaseClassed(Request r) {
        throttler.acquire(deadline, r, 2, "tenant-7");
        PodTracker pod = r.pod;
        throttler.release(pod);
        return pod;
    }

    @Benchmark
    public PodTracker tryAcquireRelease() {
        PodTracker pod = throttler.tryAcquire();
        throttler.release(pod);
        return pod;
    }

    @Benchmark
    @Threads(2)
    public PodTracker acquireRelease_2threads(Request r) {
        return acquireRelease(r);
    }
}
