package dev.sluice.benchmarks;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ControlMetrics;
import dev.sluice.core.control.Endpoint;
import dev.sluice.core.control.EventSource;
import dev.sluice.core.control.PodEvent;
import dev.sluice.core.control.ReadinessCheck;
import dev.sluice.core.control.RevisionSettings;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.pod.PodState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
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
 * The control path through its public API: each operation is submitted to the revision's
 * inbox and awaited, so the score includes the hop to the writer thread and back. The writer's
 * own processing time per operation (from the {@link ControlMetrics#processed} hook) is printed
 * at the end of each trial as "writer time".
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ControlPathBenchmark {

    static final RevisionId REV = new RevisionId("bench", "rev");

    /** Sums the writer's processing time per operation. */
    static final class WriterTime implements ControlMetrics {
        final Map<String, LongAdder[]> byOp = new ConcurrentHashMap<>();

        @Override
        public void processed(RevisionId revision, String operation, long nanos) {
            LongAdder[] a = byOp.computeIfAbsent(operation, k -> new LongAdder[] {new LongAdder(), new LongAdder()});
            a[0].add(nanos);
            a[1].increment();
        }

        void reset() {
            byOp.clear();
        }

        void print(String label) {
            StringBuilder sb = new StringBuilder("writer time (" + label + "):");
            byOp.forEach((op, a) -> sb.append(String.format(" %s %.2f us/op (%d ops);", op,
                    a[0].sum() / 1000.0 / Math.max(1, a[1].sum()), a[1].sum())));
            System.out.println(sb);
        }
    }

    @Param({"100"})
    public int pods;

    WriterTime writerTime;
    StateManager manager;
    long sequence;

    @Setup(Level.Trial)
    public void setUp() {
        writerTime = new WriterTime();
        manager = new StateManager(1, NanoClock.system(), ReadinessCheck.ALWAYS_READY, writerTime);
        manager.open(REV, RevisionSettings.defaults(4));
        manager.recalculate(REV, endpoints(pods, 0)).join();
        manager.flush(REV).join();
    }

    @Setup(Level.Iteration)
    public void resetCounters() {
        writerTime.reset();
    }

    @TearDown(Level.Iteration)
    public void printWriterTime() {
        writerTime.print("pods=" + pods);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    static List<Endpoint> endpoints(int n, int notReadyPercent) {
        List<Endpoint> list = new ArrayList<>(n);
        int notReady = n * notReadyPercent / 100;
        for (int i = 0; i < n; i++) {
            list.add(new Endpoint("pod-" + i, "10." + (i >> 16) + '.' + ((i >> 8) & 255) + '.' + (i & 255) + ":8080",
                    i < notReady ? PodState.NOT_READY : PodState.READY));
        }
        return list;
    }

    /** Adds one pod (pending, so no readiness probe) and removes it again. */
    @Benchmark
    public void addAndRemovePod() {
        String address = "10.200.0.1:" + (1024 + (int) (sequence++ % 60_000));
        manager.report(new PodEvent(EventSource.POD, REV, "churn-" + sequence, address, PodState.PENDING)).join();
        manager.removePod(REV, address).join();
    }

    /** A known pod reports NOT_READY, then READY. */
    @Benchmark
    public void podStateChange() {
        String address = "10.0.0.0:8080";
        manager.report(new PodEvent(EventSource.POD, REV, "pod-0", address, PodState.NOT_READY)).join();
        manager.report(new PodEvent(EventSource.POD, REV, "pod-0", address, PodState.READY)).join();
    }
}
