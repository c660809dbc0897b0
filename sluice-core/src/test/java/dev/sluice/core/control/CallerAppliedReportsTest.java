package dev.sluice.core.control;

import static dev.sluice.core.control.ControlTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A report that finds its mailbox idle is applied by its caller; one that finds the writer
 * busy waits for the worker; anything else is the worker's; and reporters racing from many
 * threads never run two batches at once and lose nothing.
 */
class CallerAppliedReportsTest {

    private static final RevisionId REV = new RevisionId("default", "caller");
    private static final RevisionSettings SETTINGS = new RevisionSettings(2, 10, 100, PolicyKind.FIRST_AVAILABLE,
            Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(20));
    private static final ReadinessCheck NEVER = (r, p, a) -> new CompletableFuture<>();

    private final WriterPool pool = new WriterPool(1);
    private final ManualClock clock = new ManualClock(1_000_000_000L);
    private final WriterFailures failures = new WriterFailures();
    private final RevisionMailbox mailbox = new RevisionMailbox(REV, SETTINGS, pool, failures, clock, NEVER,
            ControlMetrics.NONE, true);

    @AfterEach
    void stop() {
        pool.shutdown();
    }

    private static PodEvent pod(String id, PodState state) {
        return new PodEvent(EventSource.POD, REV, id, "10.0.0." + id.substring(4) + ":8080", state);
    }

    /** The thread each applied operation ran on, in order. */
    private List<String> recordThreads() {
        List<String> threads = new ArrayList<>();
        failures.inject(op -> {
            synchronized (threads) {
                threads.add(op + "@" + Thread.currentThread().getName());
            }
        });
        return threads;
    }

    @Test
    void anIdleRevisionsReportIsAppliedByItsCallerBeforeReportReturns() {
        List<String> threads = recordThreads();
        CompletableFuture<Object> f = mailbox.report(pod("pod-1", PodState.NOT_READY));
        assertThat(f).isCompleted();
        assertThat(threads).containsExactly("mutate-pod@" + Thread.currentThread().getName());
        assertThat(mailbox.report(pod("pod-1", PodState.READY))).isCompleted();
        assertThat(JoiningPropertiesTest.view(mailbox)).startsWith("{10.0.0.1:8080=pod-1:READY} capacity=2");
    }

    @Test
    void aReportThatFindsTheWriterBusyIsLeftToTheWorker() throws Exception {
        List<String> threads = recordThreads();
        HeldWriter held = HeldWriter.hold(mailbox);
        CompletableFuture<Object> f = mailbox.report(pod("pod-1", PodState.READY));
        assertThat(f).isNotDone();
        held.release();
        await(f);
        assertThat(threads).containsExactly("flush@sluice-writer-0", "mutate-pod@sluice-writer-0");
    }

    @Test
    void otherOperationsAreAlwaysTheWorkers() {
        List<String> threads = recordThreads();
        await(mailbox.submit(Operation.REMOVE_POD, w -> w.removePod("10.0.0.9:8080")));
        // The removal's caller hears back before its batch ends: wait until the worker let go.
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(mailbox::idle);
        await(mailbox.report(pod("pod-1", PodState.READY)));
        await(mailbox.query(Operation.FLUSH, w -> null));
        assertThat(threads).containsExactly("remove-pod@sluice-writer-0",
                "mutate-pod@" + Thread.currentThread().getName(), "flush@sluice-writer-0");
    }

    @Test
    void aFailingRevisionLeavesItsReportsToTheWorkersBackoff() {
        failures.inject(op -> {
            throw new IllegalStateException("injected");
        });
        CompletableFuture<Object> failed = mailbox.report(pod("pod-1", PodState.READY));
        assertThat(failed).isCompletedExceptionally();
        List<String> threads = recordThreads();
        CompletableFuture<Object> next = mailbox.report(pod("pod-2", PodState.READY));
        assertThat(next).as("held until the backoff ends and the worker reconciles").isNotDone();
        clock.advance(StateManager.MAX_BACKOFF.plusSeconds(1));
        mailbox.tick(clock.nanoTime());
        await(next);
        String me = "@" + Thread.currentThread().getName();
        assertThat(threads).contains("mutate-pod@sluice-writer-0").noneMatch(t -> t.endsWith(me));
    }

    /**
     * Four threads report flapping pods of their own at once; each pod's last report is READY.
     * No two operations ever run at once (checked around each one), and every pod ends READY.
     */
    @Test
    void reportersRacingFromManyThreadsNeverOverlapAndLoseNothing() throws Exception {
        AtomicBoolean inside = new AtomicBoolean();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger applied = new AtomicInteger();
        AtomicInteger byReporters = new AtomicInteger();
        RevisionMailbox m = new RevisionMailbox(REV, SETTINGS, pool, failures, clock, NEVER, new ControlMetrics() {
            @Override
            public void processed(RevisionId revision, String operation, long nanos) {
                inside.set(false);
            }
        }, true);
        failures.inject(op -> {
            if (!inside.compareAndSet(false, true)) {
                overlaps.incrementAndGet();
            }
            applied.incrementAndGet();
            if (Thread.currentThread().getName().startsWith("reporter-")) {
                byReporters.incrementAndGet();
            }
        });
        int threads = 4;
        int podsEach = 25;
        int rounds = 400;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> reporters = new ArrayList<>();
        List<CompletableFuture<Object>> last = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int base = t * podsEach;
            Thread reporter = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int r = 0; r < rounds; r++) {
                    for (int p = 0; p < podsEach; p++) {
                        PodState s = r == rounds - 1 || r % 2 == 1 ? PodState.READY : PodState.NOT_READY;
                        CompletableFuture<Object> f = m.report(pod("pod-" + (base + p + 1), s));
                        if (r == rounds - 1) {
                            synchronized (last) {
                                last.add(f);
                            }
                        }
                    }
                }
            }, "reporter-" + t);
            reporters.add(reporter);
            reporter.start();
        }
        start.countDown();
        for (Thread reporter : reporters) {
            reporter.join(TimeUnit.SECONDS.toMillis(30));
        }
        last.forEach(ControlTestSupport::await);
        String view = JoiningPropertiesTest.view(m);
        assertThat(overlaps.get()).as("operations that ran while another was running").isZero();
        assertThat(byReporters.get()).as("reports applied by their callers").isPositive();
        assertThat(view).contains("capacity=" + 2 * threads * podsEach);
        for (int p = 1; p <= threads * podsEach; p++) {
            assertThat(view).contains("pod-" + p + ":READY");
        }
    }
}
