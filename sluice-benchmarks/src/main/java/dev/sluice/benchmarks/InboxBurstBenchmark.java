package dev.sluice.benchmarks;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ControlMetrics;
import dev.sluice.core.control.EventSource;
import dev.sluice.core.control.PodEvent;
import dev.sluice.core.control.ReadinessCheck;
import dev.sluice.core.control.RevisionSettings;
import dev.sluice.core.control.StateManager;
import dev.sluice.core.pod.PodState;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * A burst of 100,000 pod events posted as fast as one thread can into one revision's inbox
 * (100 pods flapping NOT_READY / READY). The score is the time until the writer has applied
 * them all; each event's inbox wait (enqueue → the writer's turn on it, to apply it or to
 * decide that a later report of its pod supersedes it: a superseded event's wait ends when its
 * fate is decided, not earlier) is recorded through the {@link ControlMetrics#inboxWait} hook
 * and printed as p50 / p99 / max per iteration. Since a batch answers its callers at its end,
 * the caller's own wait is longer by the rest of the batch: for every 100th event the time
 * from before {@code report} to its future's completion ("heard back", 1,000 samples an
 * iteration) is printed too. Then the CPU time the writer thread and the producer thread
 * spent per event in the iteration (thread CPU time, so a thread waiting for a core does not
 * count): the backlog, and so the wait, grows while the writer needs more per event than the
 * producer. Then, from Linux's schedstat, how long each of the two was on a core and how long it
 * waited for one during the burst (the writer's figures are 0 when the producer applied
 * everything). Last, how many events joined their pod's report still waiting in the inbox (the
 * caller got the same future as for the pod's previous event).
 *
 * <p>{@code reports}: who applies a report that finds the writer idle
 * ({@link StateManager.ReportApplying}). {@code BY_CALLER}, the server's, is the producer
 * itself (the burst's "writer" CPU is then 0 and the producer's includes the applying);
 * {@code BY_WORKER} hands every report to the writer thread, as before.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(1)
@State(Scope.Benchmark)
public class InboxBurstBenchmark {

    static final int EVENTS = 100_000;
    static final RevisionId REV = new RevisionId("bench", "burst");

    static final class Waits implements ControlMetrics {
        final long[] waits = new long[EVENTS + 16];
        final AtomicInteger n = new AtomicInteger();

        @Override
        public void inboxWait(RevisionId revision, long nanos) {
            int i = n.getAndIncrement();
            if (i < waits.length) {
                waits[i] = nanos;
            }
        }
    }

    static final int HEARD_EVERY = 100;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Param({"BY_CALLER", "BY_WORKER"})
    public StateManager.ReportApplying reports;

    private Waits waits;
    private long writerThread;
    private long writerCpuBefore;
    private long producerCpu;
    private SchedStat writerSched;
    private long[] producerSchedBefore;
    private long[] writerSchedBefore;
    private long[] producerSchedAfter;
    private final long[] heard = new long[EVENTS / HEARD_EVERY];
    /** Each pod's last report's future: the same one again means the event joined its pending report. */
    private final Object[] lastFuture = new Object[100];
    private int joined;
    private StateManager manager;
    private PodEvent[] burst;

    @Setup(Level.Trial)
    public void setUp() {
        waits = new Waits();
        manager = new StateManager(1, NanoClock.system(), ReadinessCheck.ALWAYS_READY, waits, reports);
        manager.open(REV, RevisionSettings.defaults(1));
        burst = new PodEvent[EVENTS];
        for (int i = 0; i < EVENTS; i++) {
            int pod = i % 100;
            burst[i] = new PodEvent(EventSource.POD, REV, "pod-" + pod, "10.0.0." + pod + ":8080",
                    (i / 100) % 2 == 0 ? PodState.NOT_READY : PodState.READY);
        }
        for (int pod = 0; pod < 100; pod++) {
            manager.report(new PodEvent(EventSource.POD, REV, "pod-" + pod, "10.0.0." + pod + ":8080",
                    PodState.NOT_READY));
        }
        manager.flush(REV).join();
        writerSched = SchedStat.threadNamed("sluice-writer");
        writerThread = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("sluice-writer")).findFirst().orElseThrow().getId();
    }

    @Setup(Level.Iteration)
    public void reset() {
        waits.n.set(0);
        Arrays.fill(heard, -1);
        Arrays.fill(lastFuture, null);
        joined = 0;
        writerCpuBefore = THREADS.getThreadCpuTime(writerThread);
        writerSchedBefore = writerSched.read();
    }

    @TearDown(Level.Iteration)
    public void print() {
        int count = Math.min(waits.n.get(), waits.waits.length);
        long[] w = Arrays.copyOf(waits.waits, count);
        Arrays.sort(w);
        long[] h = Arrays.stream(heard).filter(x -> x >= 0).sorted().toArray();
        double writerNs = (THREADS.getThreadCpuTime(writerThread) - writerCpuBefore) / (double) EVENTS;
        long[] writerSchedAfter = writerSched.read();
        System.out.printf("inbox wait over %d events: p50 %.1f us, p99 %.1f us, max %.1f us;"
                        + " heard back (%d sampled): p50 %.1f us, p99 %.1f us;"
                        + " CPU per event: writer %.0f ns, producer %.0f ns;"
                        + " on a core / waiting for one: producer %.1f / %.1f ms, writer %.1f / %.1f ms;"
                        + " joined a pending report: %d%n", count,
                w[count / 2] / 1000.0, w[(int) (count * 0.99)] / 1000.0, w[count - 1] / 1000.0, h.length,
                h.length == 0 ? Double.NaN : h[h.length / 2] / 1000.0,
                h.length == 0 ? Double.NaN : h[(int) (h.length * 0.99)] / 1000.0,
                writerNs, producerCpu / (double) EVENTS,
                (producerSchedAfter[0] - producerSchedBefore[0]) / 1e6, (producerSchedAfter[1] - producerSchedBefore[1]) / 1e6,
                (writerSchedAfter[0] - writerSchedBefore[0]) / 1e6, (writerSchedAfter[1] - writerSchedBefore[1]) / 1e6,
                joined);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }

    @Benchmark
    public void burst() {
        SchedStat producerSched = SchedStat.currentThread();
        producerSchedBefore = producerSched.read();
        long cpu = THREADS.getCurrentThreadCpuTime();
        for (int i = 0; i < EVENTS; i++) {
            CompletableFuture<Void> f;
            if (i % HEARD_EVERY != 0) {
                f = manager.report(burst[i]);
            } else {
                int k = i / HEARD_EVERY;
                long t = System.nanoTime();
                f = manager.report(burst[i]);
                f.whenComplete((x, err) -> heard[k] = System.nanoTime() - t);
            }
            if (lastFuture[i % 100] == f) {
                joined++;
            }
            lastFuture[i % 100] = f;
        }
        producerCpu = THREADS.getCurrentThreadCpuTime() - cpu;
        manager.flush(REV).join();
        producerSchedAfter = producerSched.read();
    }
}
