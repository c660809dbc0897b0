package dev.sluice.benchmarks;

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
 * The cold path: adding one pod to a table of {@code pods} (reusing the hole the previous
 * removal left) and removing it again (drain, then remove).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class PodTableBenchmark {

    @Param({"100", "1000"})
    public int pods;

    private PodTable table;
    private long now;

    @Setup(Level.Trial)
    public void setUp() {
        table = new PodTable(pods + 1);
        for (int i = 0; i < pods; i++) {
            table.add("pod-" + i, "10.0." + (i >> 8) + '.' + (i & 255) + ":8080", PodState.READY, 4, 0);
        }
    }

    @Benchmark
    public PodTracker addThenRemove() {
        PodTracker t = table.add("churn", "10.9.9.9:8080", PodState.READY, 4, ++now);
        table.moveTo(t, PodState.DRAINING, now);
        table.remove(t, false, now);
        return t;
    }

    @Benchmark
    public PodTracker stateChange() {
        PodTracker t = table.trackerAt(0);
        table.moveTo(t, PodState.NOT_READY, ++now);
        table.moveTo(t, PodState.READY, now);
        return t;
    }
}
