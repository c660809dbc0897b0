package dev.sluice.benchmarks;

import dev.sluice.core.NanoClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.control.Endpoint;
import dev.sluice.core.control.ReadinessCheck;
import dev.sluice.core.control.RevisionSettings;
import dev.sluice.core.control.StateManager;
import java.util.List;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Recalculating a revision from a discovery snapshot of {@code pods} endpoints, where
 * {@code changed}% of the pods change state (READY ↔ NOT_READY) on every call. Awaited through
 * the public API; the writer's own time is printed per iteration.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class RecalculationBenchmark {

    @Param({"100", "500", "5000"})
    public int pods;

    @Param({"0", "10", "100"})
    public int changed;

    private ControlPathBenchmark.WriterTime writerTime;
    private StateManager manager;
    private List<Endpoint> a;
    private List<Endpoint> b;
    private boolean flip;

    @Setup(Level.Trial)
    public void setUp() {
        writerTime = new ControlPathBenchmark.WriterTime();
        manager = new StateManager(1, NanoClock.system(), ReadinessCheck.ALWAYS_READY, writerTime);
        manager.open(ControlPathBenchmark.REV, new RevisionSettings(4, pods, 10_000,
                PolicyKind.ROUND_ROBIN, RevisionSettings.DEFAULT_STALE_THRESHOLD,
                RevisionSettings.DEFAULT_DRAIN_TIMEOUT, RevisionSettings.DEFAULT_RECOVERY_TIMEOUT));
        a = ControlPathBenchmark.endpoints(pods, 0);
        b = ControlPathBenchmark.endpoints(pods, changed);
        manager.recalculate(ControlPathBenchmark.REV, a).join();
        manager.flush(ControlPathBenchmark.REV).join();
    }

    @Setup(Level.Iteration)
    public void resetCounters() {
        writerTime.reset();
    }

    @TearDown(Level.Iteration)
    public void printWriterTime() {
        writerTime.print("pods=" + pods + " changed=" + changed + "%");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    public Object recalculate() {
        flip = !flip;
        return manager.recalculate(ControlPathBenchmark.REV, flip ? b : a).join();
    }
}
