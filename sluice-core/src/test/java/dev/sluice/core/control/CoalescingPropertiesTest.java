package dev.sluice.core.control;

import static dev.sluice.core.control.ControlTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.control.ControlTestSupport.RecordingMetrics;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTracker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Coalescing and batching change nothing but the work: the same pod events and removals,
 * applied one by one (each its own batch) and posted in one burst (one batch: reports
 * coalesced, the views published and the callers answered once at its end), leave the same
 * table — each address's pod id and state, the capacity, and the checks under way.
 */
class CoalescingPropertiesTest {

    private static final RevisionId REV = new RevisionId("default", "coalesce");
    private static final RevisionSettings SETTINGS = new RevisionSettings(2, 10, 100, PolicyKind.FIRST_AVAILABLE,
            Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(20));
    private static final PodState[] STATES = {PodState.READY, PodState.NOT_READY, PodState.PENDING, PodState.DRAINING};
    /** A check that never answers: pods claiming READY while unknown stay validating. */
    private static final ReadinessCheck NEVER = (r, p, a) -> new CompletableFuture<>();

    /** Event {@code code}: one of 3 addresses, 2 pod ids, mostly the pod's own word, 4 states. */
    static PodEvent event(int code) {
        String address = "10.0.0." + (1 + code % 3) + ":8080";
        String podId = (code / 3) % 2 == 0 ? "a" : "b";
        EventSource source = (code / 6) % 4 == 0 ? EventSource.DISCOVERY : EventSource.POD;
        return new PodEvent(source, REV, podId, address, STATES[(code / 24) % 4]);
    }

    /** Operation {@code code}: a report ({@link #event}) below 96, else the removal of one of the 3 addresses. */
    static CompletableFuture<Object> post(RevisionMailbox m, int code) {
        if (code < 96) {
            return m.report(event(code));
        }
        String address = "10.0.0." + (1 + code % 3) + ":8080";
        return m.submit(Operation.REMOVE_POD, w -> w.removePod(address));
    }

    @Property(tries = 200)
    void aBurstAppliedCoalescedAndBatchedLeavesTheSameTableAsOneByOne(
            @ForAll @Size(min = 1, max = 150) List<@IntRange(min = 0, max = 104) Integer> codes) throws Exception {
        assertBurstLeavesTheSameTableAsOneByOne(codes);
    }

    /**
     * Runs of one pod's reports (same address, id and source, the state changing along the
     * run), so that a report is skipped for the next, and that one for the next: after the
     * first of a run, the mailbox checks only the report's own state (the table's side is known
     * to hold). A draining report or another operation interrupts a run.
     */
    @Property(tries = 200)
    void runsOfOnePodsReportsCoalescedLeaveTheSameTableAsOneByOne(
            @ForAll @Size(min = 1, max = 40) List<@IntRange(min = 0, max = 104) Integer> codes,
            @ForAll @Size(min = 40, max = 40) List<@IntRange(min = 1, max = 12) Integer> runs) throws Exception {
        List<Integer> expanded = new ArrayList<>();
        for (int i = 0; i < codes.size(); i++) {
            int code = codes.get(i);
            for (int j = 0; j < runs.get(i); j++) {
                // Same address, id and source (code % 24); the state moves on along the run.
                expanded.add(code < 96 ? code % 24 + 24 * ((code / 24 + j) % 4) : code);
            }
        }
        assertBurstLeavesTheSameTableAsOneByOne(expanded);
    }

    /** A burst of several batches: runs of reports cross the batches' ends, removals among them. */
    @Example
    void aBurstOfSeveralBatchesLeavesTheSameTableAsOneByOne() throws Exception {
        Random random = new Random(23);
        List<Integer> codes = new ArrayList<>();
        while (codes.size() < 3 * RevisionMailbox.BATCH + 17) {
            int code = random.nextInt(105);
            int run = 1 + random.nextInt(12);
            for (int j = 0; j < run; j++) {
                codes.add(code < 96 ? code % 24 + 24 * ((code / 24 + j) % 4) : code);
            }
        }
        assertBurstLeavesTheSameTableAsOneByOne(codes);
    }

    private static void assertBurstLeavesTheSameTableAsOneByOne(List<Integer> codes) throws Exception {
        WriterPool pool = new WriterPool(1);
        ManualClock clock = new ManualClock(1_000_000_000L);
        try {
            RevisionMailbox oneByOne = new RevisionMailbox(REV, SETTINGS, pool, new WriterFailures(), clock, NEVER,
                    ControlMetrics.NONE);
            RevisionMailbox burst = new RevisionMailbox(REV, SETTINGS, pool, new WriterFailures(), clock, NEVER,
                    ControlMetrics.NONE);
            for (int code : codes) {
                await(post(oneByOne, code));
            }

            // Hold the worker, post the whole burst, let go: the burst is one batch.
            HeldWriter held = HeldWriter.hold(burst);
            List<CompletableFuture<Object>> posted = new ArrayList<>();
            for (int code : codes) {
                posted.add(post(burst, code));
            }
            held.release();
            for (CompletableFuture<Object> f : posted) {
                await(f);
            }
            assertThat(view(burst)).isEqualTo(view(oneByOne));
        } finally {
            pool.shutdown();
        }
    }

    /**
     * Found by the property: a report of pod {@code a} skipped for its next one while a report of
     * pod {@code b} between them retired {@code a}'s identity at another address (IP reuse).
     */
    @Example
    void aReportIsNotSkippedOverAnotherAddressReusedFromTheSameId() throws Exception {
        assertBurstLeavesTheSameTableAsOneByOne(List.of(56, 2, 25, 68, 34, 8));
    }

    /**
     * Found by the property once capacity was settled per run of reports: pod {@code b} READY at
     * an address, then discovery says a never-tracked pod {@code a} there is DRAINING. That
     * retires {@code b} (IP reuse) though the event itself is ignored; capacity is lowered and
     * idle {@code b} removed at once (one by one, capacity used to stay at 2 with no routable pod).
     */
    @Example
    void anIgnoredEventThatRetiredTheOldPodLowersCapacity() throws Exception {
        assertBurstLeavesTheSameTableAsOneByOne(List.of(63, 3, 72));
        WriterPool pool = new WriterPool(1);
        try {
            RevisionMailbox m = new RevisionMailbox(REV, SETTINGS, pool, new WriterFailures(),
                    new ManualClock(1_000_000_000L), NEVER, ControlMetrics.NONE);
            for (int code : List.of(63, 3, 72)) {
                await(post(m, code));
            }
            assertThat(view(m)).isEqualTo("{} capacity=0 checks=[]");
        } finally {
            pool.shutdown();
        }
    }

    @Example
    void aPodFlappingInABurstIsAppliedOnceAndEndsInItsLastState() throws Exception {
        WriterPool pool = new WriterPool(1);
        RecordingMetrics metrics = new RecordingMetrics();
        try {
            RevisionMailbox m = new RevisionMailbox(REV, SETTINGS, pool, new WriterFailures(),
                    new ManualClock(1_000_000_000L), NEVER, metrics);
            String address = "10.0.0.1:8080";
            await(m.report(new PodEvent(EventSource.POD, REV, "a", address, PodState.NOT_READY)));
            HeldWriter held = HeldWriter.hold(m);
            CompletableFuture<Object> last = null;
            for (int i = 0; i < 100; i++) {
                last = m.report(new PodEvent(EventSource.POD, REV, "a", address,
                        i % 2 == 0 ? PodState.READY : PodState.NOT_READY));
            }
            last = m.report(new PodEvent(EventSource.POD, REV, "a", address, PodState.READY));
            held.release();
            await(last);
            assertThat(metrics.processed.get("mutate-pod").get()).as("reports applied").isEqualTo(2);
            assertThat(view(m)).startsWith("{10.0.0.1:8080=a:READY} capacity=2");
        } finally {
            pool.shutdown();
        }
    }

    /** Each address's pod id and state, the capacity, and the checks under way, read on the writer. */
    private static String view(RevisionMailbox m) {
        return (String) await(m.query(Operation.FLUSH, w -> {
            Map<String, String> pods = new TreeMap<>();
            for (PodTracker t : w.throttler.table().trackers()) {
                pods.merge(t.address(), t.podId() + ":" + t.state(), (x, y) -> x + "," + y);
            }
            w.publishChecks();
            return pods + " capacity=" + w.throttler.capacity() + " checks=" + w.checks();
        }));
    }
}
