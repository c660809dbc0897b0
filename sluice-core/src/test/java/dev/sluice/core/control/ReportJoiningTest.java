package dev.sluice.core.control;

import static dev.sluice.core.control.ControlTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.control.ControlTestSupport.RecordingMetrics;
import dev.sluice.core.pod.PodState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The joining rules one by one: a pod's report joins its pending report only while nothing
 * that could interact was posted after it (a removal, a snapshot, a query; a report of another
 * id at its address; its id at another address; discovery's word on it), and only once the
 * writer said the table lets a run collapse to its last report. Each test checks the futures
 * (a joiner gets the pending report's own) and that the table is the one-by-one result.
 */
class ReportJoiningTest {

    private static final RevisionId REV = new RevisionId("default", "joining");
    private static final RevisionSettings SETTINGS = new RevisionSettings(2, 10, 100, PolicyKind.FIRST_AVAILABLE,
            Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(20));
    private static final ReadinessCheck NEVER = (r, p, a) -> new CompletableFuture<>();
    private static final String X = "10.0.0.1:8080";
    private static final String Y = "10.0.0.2:8080";

    private final WriterPool pool = new WriterPool(1);
    /** The model's own worker: it applies each operation while {@code joined}'s writer is held. */
    private final WriterPool modelPool = new WriterPool(1);
    private final ManualClock clock = new ManualClock(1_000_000_000L);
    private final RecordingMetrics metrics = new RecordingMetrics();
    private final RevisionMailbox joined = new RevisionMailbox(REV, SETTINGS, pool, new WriterFailures(), clock,
            NEVER, metrics);
    /**
     * Another revision on {@code joined}'s worker: a query of its that waits holds the worker
     * without putting anything in {@code joined}'s inbox (a query there would be a barrier).
     */
    private final RevisionMailbox gate = new RevisionMailbox(new RevisionId("default", "gate"), SETTINGS, pool,
            new WriterFailures(), clock, NEVER, ControlMetrics.NONE);
    private final RevisionMailbox oneByOne = new RevisionMailbox(REV, SETTINGS, modelPool, new WriterFailures(), clock,
            NEVER, ControlMetrics.NONE);

    @AfterEach
    void stop() {
        pool.shutdown();
        modelPool.shutdown();
    }

    private static PodEvent pod(String id, String address, PodState state) {
        return new PodEvent(EventSource.POD, REV, id, address, state);
    }

    /** Posts {@code ops} one by one to the model and, with its writer held, to {@code joined}; returns the futures. */
    private List<CompletableFuture<Object>> postHeld(List<Consumer<List<CompletableFuture<Object>>>> ops)
            throws InterruptedException {
        HeldWriter held = HeldWriter.hold(gate);
        List<CompletableFuture<Object>> futures = new ArrayList<>();
        for (Consumer<List<CompletableFuture<Object>>> op : ops) {
            op.accept(futures);
        }
        held.release();
        futures.forEach(ControlTestSupport::await);
        return futures;
    }

    private Consumer<List<CompletableFuture<Object>>> report(PodEvent e) {
        return futures -> {
            await(oneByOne.report(e));
            futures.add(joined.report(e));
        };
    }

    private Consumer<List<CompletableFuture<Object>>> remove(String address) {
        return futures -> {
            await(oneByOne.submit(Operation.REMOVE_POD, w -> w.removePod(address)));
            futures.add(joined.submit(Operation.REMOVE_POD, w -> w.removePod(address)));
        };
    }

    /** Pod a NOT_READY at X, applied on both: its report's verdict lets the next one be joined. */
    private void podATrackedAtX() {
        await(oneByOne.report(pod("a", X, PodState.NOT_READY)));
        await(joined.report(pod("a", X, PodState.NOT_READY)));
    }

    @Test
    void aPodsReportsJoinItsPendingReportAndOnlyTheLastIsApplied() throws Exception {
        podATrackedAtX();
        List<CompletableFuture<Object>> f = postHeld(List.of(report(pod("a", X, PodState.READY)),
                report(pod("a", X, PodState.NOT_READY)), report(pod("a", X, PodState.PENDING)),
                report(pod("a", X, PodState.READY))));
        assertThat(f).allMatch(x -> x == f.get(0));
        assertThat(metrics.processed.get("mutate-pod").get()).as("reports applied").isEqualTo(2);
        assertThat(metrics.inboxWaits.get()).as("each event's wait measured").isEqualTo(1 + 4);
        assertThat(JoiningPropertiesTest.view(joined)).isEqualTo(JoiningPropertiesTest.view(oneByOne))
                .startsWith("{10.0.0.1:8080=a:READY} capacity=2");
    }

    @Test
    void aNewPodsReportsAreNotJoinedBeforeTheWriterHasSeenThePod() throws Exception {
        List<CompletableFuture<Object>> f = postHeld(List.of(report(pod("a", X, PodState.NOT_READY)),
                report(pod("a", X, PodState.READY))));
        assertThat(f.get(1)).isNotSameAs(f.get(0));
        assertThat(JoiningPropertiesTest.view(joined)).isEqualTo(JoiningPropertiesTest.view(oneByOne));
    }

    @Test
    void aRemovalBetweenTwoReportsOfAPodStopsTheJoin() throws Exception {
        podATrackedAtX();
        List<CompletableFuture<Object>> f = postHeld(List.of(report(pod("a", X, PodState.READY)), remove(X),
                report(pod("a", X, PodState.NOT_READY))));
        assertThat(f.get(2)).isNotSameAs(f.get(0));
        assertThat(JoiningPropertiesTest.view(joined)).isEqualTo(JoiningPropertiesTest.view(oneByOne))
                .startsWith("{10.0.0.1:8080=a:NOT_READY}");
    }

    @Test
    void anotherPodAtTheAddressClosesThePendingReport() throws Exception {
        podATrackedAtX();
        List<CompletableFuture<Object>> f = postHeld(List.of(report(pod("a", X, PodState.READY)),
                report(pod("b", X, PodState.NOT_READY)), report(pod("a", X, PodState.NOT_READY))));
        assertThat(f.get(2)).isNotSameAs(f.get(0)).isNotSameAs(f.get(1));
        assertThat(JoiningPropertiesTest.view(joined)).isEqualTo(JoiningPropertiesTest.view(oneByOne))
                .contains("retired=[a]");
    }

    @Test
    void theSameIdAtAnotherAddressClosesThePendingReport() throws Exception {
        podATrackedAtX();
        List<CompletableFuture<Object>> f = postHeld(List.of(report(pod("a", X, PodState.READY)),
                report(pod("a", Y, PodState.NOT_READY)), report(pod("a", X, PodState.NOT_READY))));
        assertThat(f.get(2)).isNotSameAs(f.get(0)).isNotSameAs(f.get(1));
        assertThat(JoiningPropertiesTest.view(joined)).isEqualTo(JoiningPropertiesTest.view(oneByOne));
    }

    @Test
    void discoverysWordOnThePodClosesThePendingReport() throws Exception {
        podATrackedAtX();
        List<CompletableFuture<Object>> f = postHeld(List.of(report(pod("a", X, PodState.NOT_READY)),
                report(new PodEvent(EventSource.DISCOVERY, REV, "a", X, PodState.READY)),
                report(pod("a", X, PodState.READY))));
        assertThat(f.get(2)).isNotSameAs(f.get(0)).isNotSameAs(f.get(1));
        assertThat(JoiningPropertiesTest.view(joined)).isEqualTo(JoiningPropertiesTest.view(oneByOne));
    }

    @Test
    void aDrainingReportEndsTheRun() throws Exception {
        podATrackedAtX();
        List<CompletableFuture<Object>> f = postHeld(List.of(report(pod("a", X, PodState.READY)),
                report(pod("a", X, PodState.DRAINING)), report(pod("a", X, PodState.READY))));
        assertThat(f.get(1)).isSameAs(f.get(0));
        assertThat(f.get(2)).isNotSameAs(f.get(0));
        assertThat(JoiningPropertiesTest.view(joined)).isEqualTo(JoiningPropertiesTest.view(oneByOne));
    }
}
