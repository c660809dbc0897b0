package dev.sluice.benchmarks;

import dev.sluice.core.balance.LoadBalancingPolicy;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
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
 * One pick + reserve + release by a policy. {@code idle}: every pod free (cc = 4);
 * {@code oneFree}: cc = 1 and every pod full but the one in the highest slot — the case where
 * upstream's scans cost ~10 ns per full pod.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class PolicyBenchmark {

    @Param({"RANDOM", "POWER_OF_TWO_CHOICES", "FIRST_AVAILABLE", "ROUND_ROBIN", "LEAST_CONNECTIONS"})
    public PolicyKind policy;

    @Param({"10", "100", "500", "1000"})
    public int pods;

    @Param({"idle", "oneFree"})
    public String load;

    private PodTable table;
    private LoadBalancingPolicy lb;

    @Setup(Level.Trial)
    public void setUp() {
        boolean oneFree = load.equals("oneFree");
        table = new PodTable(pods);
        for (int i = 0; i < pods; i++) {
            PodTracker t = table.add("pod-" + i, "10.0." + (i >> 8) + '.' + (i & 255) + ":8080", PodState.READY,
                    oneFree ? 1 : 4, 0);
            if (oneFree && i < pods - 1 && !t.tryReserve()) {
                throw new IllegalStateException("could not fill " + t);
            }
        }
        lb = policy.create();
    }

    @Benchmark
    public PodTracker pickReserveRelease() {
        PodTracker t = lb.select(table);
        t.release();
        return t;
    }
}
