package dev.sluice.core.control;

import static dev.sluice.core.control.ControlTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.control.ControlTestSupport.ManualReadiness;
import dev.sluice.core.control.ControlTestSupport.RecordingMetrics;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import dev.sluice.core.throttle.LeaseListener;
import dev.sluice.core.throttle.Rejection;
import dev.sluice.core.throttle.RevisionThrottler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StateManagerTest {

    private static final RevisionId REV = new RevisionId("default", "model-00001");
    private static final long FAR = Long.MAX_VALUE / 2;

    private final ManualClock clock = new ManualClock(1_000_000_000L);
    private final ManualReadiness readiness = new ManualReadiness();
    private final RecordingMetrics metrics = new RecordingMetrics();
    private final StateManager manager = new StateManager(2, clock, readiness, metrics);
    private final RevisionSettings settings = new RevisionSettings(1, 10, 100, PolicyKind.FIRST_AVAILABLE,
            Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(20));
    private final RevisionThrottler throttler = manager.open(REV, settings);
    private final PodTable table = throttler.table();

    @AfterEach
    void shutDown() {
        manager.close();
    }

    private void pod(String id, String address, PodState state) {
        await(manager.report(new PodEvent(EventSource.POD, REV, id, address, state)));
    }

    private void discovered(String id, String address, PodState state) {
        await(manager.report(new PodEvent(EventSource.DISCOVERY, REV, id, address, state)));
    }

    /** A pod made ready through a passing readiness check. */
    private PodTracker readyPod(String id, String address) {
        pod(id, address, PodState.READY);
        readiness.answer(id, address, true);
        await().atMost(Duration.ofSeconds(10)).until(() -> table.find(address) != null
                && table.find(address).podId().equals(id) && table.find(address).state() == PodState.READY);
        return table.find(address);
    }

    private void flush() {
        await(manager.flush(REV));
    }

    // ------------------------------------------------------------------ idle revisions

    private int sweeps() {
        AtomicInteger n = metrics.processed.get("sweep");
        return n == null ? 0 : n.get();
    }

    @Test
    void aRevisionWithNoPodsNoChecksAndNoWaitersIsNotSweptUntilSomethingArrives() {
        flush(); // a batch has run: the writer said it has nothing to sweep
        for (int i = 0; i < 3; i++) {
            manager.tick();
        }
        flush();
        assertThat(sweeps()).as("ticks of a revision scaled to zero").isZero();

        // A request waits: the next tick sweeps (its queue expiry is the sweep's work).
        List<Rejection> rejected = new ArrayList<>();
        throttler.acquire(clock.nanoTime() + 1_000_000_000L, listener(rejected));
        manager.tick();
        flush();
        assertThat(sweeps()).isEqualTo(1);
        clock.advance(Duration.ofSeconds(2));
        manager.tick();
        flush();
        synchronized (rejected) {
            assertThat(rejected).containsExactly(Rejection.QUEUE_TIMEOUT);
        }

        // A pod being checked keeps the revision swept (its retries are the sweep's work).
        int before = sweeps();
        pod("a", "10.0.0.1:8080", PodState.READY);
        manager.tick();
        flush();
        assertThat(sweeps()).isEqualTo(before + 1);
    }

    // ------------------------------------------------------------------ validation

    @Test
    void anUnknownPodClaimingReadyGetsNoTrackerUntilItsCheckPasses() {
        pod("a", "10.0.0.1:8080", PodState.READY);
        assertThat(readiness.calls).containsExactly("a@10.0.0.1:8080");
        assertThat(table.find("10.0.0.1:8080")).as("no tracker while the check runs").isNull();
        assertThat(throttler.capacity()).isZero();
        readiness.answer("a", "10.0.0.1:8080", true);
        await().atMost(Duration.ofSeconds(10)).until(() -> table.find("10.0.0.1:8080") != null);
        assertThat(table.find("10.0.0.1:8080").state()).isEqualTo(PodState.READY);
        assertThat(throttler.capacity()).isEqualTo(1);
        assertThat(metrics.validationsPassed.get()).isEqualTo(1);
    }

    @Test
    void aFailedCheckCreatesNoTrackerAndIsCounted() {
        pod("a", "10.0.0.1:8080", PodState.READY);
        readiness.answer("a", "10.0.0.1:8080", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.validationsFailed.get() == 1);
        flush();
        assertThat(table.size()).isZero();
        assertThat(throttler.capacity()).isZero();
    }

    @Test
    void aFailedCheckIsRetriedWithBackoffWhileTheClaimStands() {
        discovered("a", "10.0.0.1:8080", PodState.READY);
        readiness.answer("a", "10.0.0.1:8080", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.validationsFailed.get() == 1);
        readiness.pending.clear();
        discovered("a", "10.0.0.1:8080", PodState.READY); // discovery repeats itself: no probe storm
        clock.advance(Duration.ofMillis(999));
        manager.tick();
        flush();
        assertThat(readiness.calls).hasSize(1);
        clock.advance(Duration.ofMillis(1));
        manager.tick();
        flush();
        assertThat(readiness.calls).as("retried after 1 s").hasSize(2);
        readiness.answer("a", "10.0.0.1:8080", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.validationsFailed.get() == 2);
        readiness.pending.clear();
        clock.advance(Duration.ofMillis(1999));
        manager.tick();
        flush();
        assertThat(readiness.calls).as("the second wait is 2 s").hasSize(2);
        clock.advance(Duration.ofMillis(1));
        manager.tick();
        flush();
        assertThat(readiness.calls).hasSize(3);
        readiness.answer("a", "10.0.0.1:8080", true);
        await().atMost(Duration.ofSeconds(10)).until(() -> table.find("10.0.0.1:8080") != null);
        assertThat(table.find("10.0.0.1:8080").state()).isEqualTo(PodState.READY);
    }

    @Test
    void aPodsOwnReadyReprobesAtOnceAndADroppedPodIsNotRetried() {
        pod("a", "10.0.0.1:8080", PodState.READY);
        readiness.answer("a", "10.0.0.1:8080", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.validationsFailed.get() == 1);
        readiness.pending.clear();
        pod("a", "10.0.0.1:8080", PodState.READY);
        assertThat(readiness.calls).as("the pod says it is ready now").hasSize(2);
        readiness.answer("a", "10.0.0.1:8080", false);
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.validationsFailed.get() == 2);
        await(manager.removePod(REV, "10.0.0.1:8080"));
        clock.advance(Duration.ofMinutes(1));
        manager.tick();
        flush();
        assertThat(readiness.calls).as("gone pods are not probed").hasSize(2);
    }

    @Test
    void aCheckThatThrowsCountsAsFailed() {
        RevisionId other = new RevisionId("default", "throws");
        try (StateManager m = new StateManager(1, clock, (r, p, a) -> {
            throw new IllegalStateException("probe broke (expected by the test)");
        }, metrics)) {
            RevisionThrottler th = m.open(other, settings);
            await(m.report(new PodEvent(EventSource.POD, other, "a", "10.0.0.1:80", PodState.READY)));
            await().atMost(Duration.ofSeconds(10)).until(() -> metrics.validationsFailed.get() == 1);
            assertThat(th.table().size()).isZero();
        }
    }

    // ------------------------------------------------------------------ authority

    @Test
    void discoveryCannotUndoAPodsOwnDrain() {
        PodTracker t = readyPod("a", "10.0.0.1:8080");
        assertThat(t.tryReserve()).isTrue(); // a request in flight keeps the draining pod around
        pod("a", "10.0.0.1:8080", PodState.DRAINING);
        assertThat(t.state()).isEqualTo(PodState.DRAINING);
        discovered("a", "10.0.0.1:8080", PodState.READY);
        assertThat(t.state()).as("discovery still lists the pod as ready").isEqualTo(PodState.DRAINING);
        assertThat(throttler.tryAcquire()).isNull();
        pod("a", "10.0.0.1:8080", PodState.READY);
        assertThat(t.state()).as("the pod's own READY").isEqualTo(PodState.READY);
    }

    @Test
    void discoveryCannotUndoAPodsOwnNotReady() {
        PodTracker t = readyPod("a", "10.0.0.1:8080");
        pod("a", "10.0.0.1:8080", PodState.NOT_READY);
        discovered("a", "10.0.0.1:8080", PodState.READY);
        assertThat(t.state()).isEqualTo(PodState.NOT_READY);
        assertThat(throttler.capacity()).isZero();
        pod("a", "10.0.0.1:8080", PodState.READY);
        assertThat(t.state()).isEqualTo(PodState.READY);
        assertThat(throttler.capacity()).isEqualTo(1);
    }

    @Test
    void discoveryAloneBringsANotReadyPodBackWhenThePodNeverSaidOtherwise() {
        discovered("a", "10.0.0.1:8080", PodState.NOT_READY);
        PodTracker t = table.find("10.0.0.1:8080");
        assertThat(t.state()).isEqualTo(PodState.NOT_READY);
        discovered("a", "10.0.0.1:8080", PodState.READY);
        assertThat(t.state()).isEqualTo(PodState.READY);
        assertThat(readiness.calls).as("a known pod is not re-validated").isEmpty();
    }

    // ------------------------------------------------------------------ IP reuse

    @Test
    void aNewIdentityAtATrackedAddressIsIpReuse() {
        PodTracker old = readyPod("old-uid", "10.0.0.1:8080");
        assertThat(old.tryReserve()).isTrue();
        pod("new-uid", "10.0.0.1:8080", PodState.READY);
        assertThat(old.state()).as("the old pod drains").isEqualTo(PodState.DRAINING);
        assertThat(old.inFlight()).as("its request finishes on it").isEqualTo(1);
        assertThat(readiness.calls).contains("new-uid@10.0.0.1:8080");
        readiness.answer("new-uid", "10.0.0.1:8080", true);
        await().atMost(Duration.ofSeconds(10)).until(() -> table.find("10.0.0.1:8080").podId().equals("new-uid"));
        PodTracker fresh = table.find("10.0.0.1:8080");
        assertThat(fresh).isNotSameAs(old);
        assertThat(fresh.state()).isEqualTo(PodState.READY);
        // A late event from the old identity can never make it ready again.
        pod("old-uid", "10.0.0.1:8080", PodState.READY);
        assertThat(old.state()).isEqualTo(PodState.DRAINING);
        assertThat(table.find("10.0.0.1:8080")).isSameAs(fresh);
        old.release();
        await().atMost(Duration.ofSeconds(10)).until(() -> old.state() == PodState.REMOVED);
        assertThat(table.size()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ passive health

    @Test
    void anUnreachablePodLeavesRotationAndReturnsAsRecoveringWhenAProbePasses() {
        PodTracker t = readyPod("a", "10.0.0.1:8080");
        readiness.pending.clear();
        await(manager.reportUnreachable(REV, "a", "10.0.0.1:8080"));
        assertThat(t.state()).isEqualTo(PodState.NOT_READY);
        assertThat(throttler.capacity()).isZero();
        readiness.answer("a", "10.0.0.1:8080", false);
        flush();
        assertThat(t.state()).as("a failed probe keeps it out").isEqualTo(PodState.NOT_READY);
        readiness.pending.clear();
        manager.tick(); // the sweep probes again
        flush();
        readiness.answer("a", "10.0.0.1:8080", true);
        await().atMost(Duration.ofSeconds(10)).until(() -> t.state() == PodState.RECOVERING);
        assertThat(throttler.capacity()).isEqualTo(1);
        assertThat(throttler.tryAcquire()).isSameAs(t);
    }

    @Test
    void passiveHealthDoesNotOverrideThePodsOwnWord() {
        PodTracker t = readyPod("a", "10.0.0.1:8080");
        readiness.pending.clear();
        await(manager.reportUnreachable(REV, "a", "10.0.0.1:8080"));
        pod("a", "10.0.0.1:8080", PodState.NOT_READY);
        readiness.answer("a", "10.0.0.1:8080", true);
        flush();
        flush();
        assertThat(t.state()).isEqualTo(PodState.NOT_READY);
        await(manager.reportUnreachable(REV, "other", "10.0.0.1:8080"));
        assertThat(t.state()).as("a report naming another identity changes nothing").isEqualTo(PodState.NOT_READY);
    }

    // ------------------------------------------------------------------ stale sweep

    @Test
    void aStalePodIsRemovedAtTheThresholdAndNotBefore() {
        pod("a", "10.0.0.1:8080", PodState.NOT_READY);
        pod("b", "10.0.0.2:8080", PodState.PENDING);
        assertThat(table.size()).isEqualTo(2);
        clock.advance(Duration.ofMinutes(5));
        pod("b", "10.0.0.2:8080", PodState.PENDING); // an event resets b's clock
        clock.advance(Duration.ofMinutes(5).minusNanos(1));
        manager.tick();
        flush();
        assertThat(table.size()).as("one nanosecond before the threshold").isEqualTo(2);
        clock.advance(Duration.ofNanos(1));
        manager.tick();
        flush();
        assertThat(table.find("10.0.0.1:8080")).isNull();
        assertThat(table.find("10.0.0.2:8080")).as("b had an event 5 minutes ago").isNotNull();
    }

    // ------------------------------------------------------------------ draining

    @Test
    void aDrainingPodIsRemovedWhenItsLastRequestEnds() {
        PodTracker t = readyPod("a", "10.0.0.1:8080");
        table.setCapacity(2); // direct: only to hold two requests on one pod in this test
        assertThat(t.tryReserve()).isTrue();
        assertThat(t.tryReserve()).isTrue();
        pod("a", "10.0.0.1:8080", PodState.DRAINING);
        t.release();
        flush();
        assertThat(t.state()).isEqualTo(PodState.DRAINING);
        t.release();
        await().atMost(Duration.ofSeconds(10)).until(() -> t.state() == PodState.REMOVED);
        assertThat(table.size()).isZero();
        assertThat(metrics.drainDeadlines.get()).isZero();
    }

    @Test
    void anIdlePodIsRemovedAsSoonAsItDrains() {
        PodTracker t = readyPod("a", "10.0.0.1:8080");
        pod("a", "10.0.0.1:8080", PodState.DRAINING);
        assertThat(t.state()).isEqualTo(PodState.REMOVED);
        assertThat(throttler.capacity()).isZero();
    }

    @Test
    void aDrainingPodIsRemovedAtItsDeadlineWithRequestsStillInFlight() {
        PodTracker t = readyPod("a", "10.0.0.1:8080");
        assertThat(t.tryReserve()).isTrue();
        pod("a", "10.0.0.1:8080", PodState.DRAINING);
        clock.advance(settings.drainTimeout().minusNanos(1));
        manager.tick();
        flush();
        assertThat(t.state()).isEqualTo(PodState.DRAINING);
        clock.advance(Duration.ofNanos(1));
        manager.tick();
        flush();
        assertThat(t.state()).isEqualTo(PodState.REMOVED);
        assertThat(metrics.drainDeadlines.get()).isEqualTo(1);
        t.release(); // the late request ends on its detached tracker
        assertThat(t.inFlight()).isZero();
    }

    // ------------------------------------------------------------------ close and shutdown

    @Test
    void closingARevisionFailsItsWaitersAndReleasesEverySlot() {
        PodTracker t = readyPod("a", "10.0.0.1:8080");
        PodTracker lease = throttler.tryAcquire();
        assertThat(lease).isSameAs(t);
        List<Rejection> rejected = new ArrayList<>();
        throttler.acquire(FAR, listener(rejected));
        assertThat(throttler.queued()).isEqualTo(1);
        await(manager.close(REV));
        assertThat(rejected).containsExactly(Rejection.REVISION_CLOSED);
        assertThat(table.size()).isZero();
        assertThat(t.state()).isEqualTo(PodState.REMOVED);
        assertThat(manager.throttler(REV)).isNull();
        throttler.release(lease);
        assertThat(throttler.active()).isZero();
        assertThatThrownBy(() -> manager.report(new PodEvent(EventSource.POD, REV, "a", "10.0.0.1:8080", PodState.READY)))
                .isInstanceOf(UnknownRevisionException.class);
    }

    @Test
    void shutdownFailsEveryWaiterWithAClearReason() {
        List<Rejection> rejected = new ArrayList<>();
        throttler.acquire(FAR, listener(rejected));
        manager.close();
        assertThat(rejected).containsExactly(Rejection.SHUTTING_DOWN);
        assertThat(throttler.isClosed()).isTrue();
    }

    // ------------------------------------------------------------------ recalculation

    @Test
    void recalculationUpdatesTrackersInPlace() {
        RevisionId rev = new RevisionId("default", "static");
        try (StateManager m = new StateManager(1, clock, ReadinessCheck.ALWAYS_READY, metrics)) {
            RevisionThrottler th = m.open(rev, settings);
            List<Endpoint> first = List.of(
                    new Endpoint("a", "10.0.0.1:80", PodState.READY),
                    new Endpoint("b", "10.0.0.2:80", PodState.READY),
                    new Endpoint("c", "10.0.0.3:80", PodState.NOT_READY));
            RecalculationSummary s1 = await(m.recalculate(rev, first));
            assertThat(s1).isEqualTo(new RecalculationSummary(1, 2, 0, 0, 0, 0));
            await().atMost(Duration.ofSeconds(10)).until(() -> th.capacity() == 2);
            PodTracker a = th.table().find("10.0.0.1:80");
            assertThat(a.tryReserve()).isTrue();
            List<Endpoint> second = List.of(
                    new Endpoint("a", "10.0.0.1:80", PodState.READY),
                    new Endpoint("c", "10.0.0.3:80", PodState.READY),
                    new Endpoint("d", "10.0.0.4:80", PodState.PENDING));
            RecalculationSummary s2 = await(m.recalculate(rev, second));
            assertThat(s2).isEqualTo(new RecalculationSummary(1, 0, 1, 1, 1, 1));
            assertThat(th.table().find("10.0.0.1:80")).as("kept with its in-flight count").isSameAs(a);
            assertThat(a.inFlight()).isEqualTo(1);
            assertThat(th.table().find("10.0.0.2:80")).as("missing and idle: gone").isNull();
            assertThat(th.table().find("10.0.0.3:80").state()).isEqualTo(PodState.READY);
            assertThat(th.table().find("10.0.0.4:80").state()).isEqualTo(PodState.PENDING);
            assertThat(th.capacity()).isEqualTo(2);
        }
    }

    @Test
    void churnReusesHolesTrimsTheTailAndLeavesInteriorHoles() {
        RevisionId rev = new RevisionId("default", "churn");
        try (StateManager m = new StateManager(1, clock, ReadinessCheck.ALWAYS_READY, metrics)) {
            RevisionThrottler th = m.open(rev, settings);
            List<Endpoint> eight = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                eight.add(new Endpoint("p" + i, "10.0.0." + i + ":80", PodState.NOT_READY));
            }
            await(m.recalculate(rev, eight));
            PodTable t = th.table();
            assertThat(t.length()).isEqualTo(8);
            // Drop p1 and p5: interior holes, ratio 0.25, nothing trimmed.
            List<Endpoint> six = new ArrayList<>(eight);
            six.remove(5);
            six.remove(1);
            await(m.recalculate(rev, six));
            assertThat(t.length()).isEqualTo(8);
            assertThat(t.fragmentationRatio()).isEqualTo(0.25);
            // Two newcomers fill the holes rather than extending the table.
            six.add(new Endpoint("n1", "10.0.1.1:80", PodState.NOT_READY));
            six.add(new Endpoint("n2", "10.0.1.2:80", PodState.NOT_READY));
            await(m.recalculate(rev, six));
            assertThat(t.length()).isEqualTo(8);
            assertThat(t.fragmentationRatio()).isZero();
            // Keep only the first two slots' pods: more than half empty, the tail is trimmed.
            String inSlot1 = t.trackerAt(1).address();
            Endpoint second = six.stream().filter(e -> e.address().equals(inSlot1)).findFirst().orElseThrow();
            List<Endpoint> two = List.of(eight.get(0), second);
            await(m.recalculate(rev, two));
            assertThat(t.size()).isEqualTo(2);
            assertThat(t.length()).isEqualTo(2);
            // The hook runs after the batch that completed the future.
            await().atMost(Duration.ofSeconds(10)).until(() -> metrics.fragmentation == 0.0);
        }
    }

    // ------------------------------------------------------------------ bad events

    @Test
    void badEventsAreRefusedBeforeTheWriterAndChangeNothing() {
        assertThatThrownBy(() -> PodEvent.of(EventSource.POD, REV, "a", "10.0.0.1:80", "sleepy"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown pod state 'sleepy'");
        assertThatThrownBy(() -> PodEvent.of(EventSource.POD, REV, " ", "10.0.0.1:80", "ready"))
                .hasMessageContaining("pod identity is missing");
        assertThatThrownBy(() -> PodEvent.of(EventSource.POD, REV, "a", "10.0.0.1", "ready"))
                .hasMessageContaining("not host:port");
        assertThatThrownBy(() -> PodEvent.of(EventSource.POD, REV, "a", "10.0.0.1:99999", "ready"))
                .hasMessageContaining("outside 1-65535");
        assertThatThrownBy(() -> PodEvent.of(EventSource.POD, REV, "a", "bad host:80", "ready"))
                .hasMessageContaining("invalid host");
        assertThatThrownBy(() -> PodEvent.of(EventSource.POD, REV, "a", "10.0.0.1:80", "removed"))
                .hasMessageContaining("cannot be reported");
        assertThatThrownBy(() -> new RevisionSettings(-1, 1, 1, PolicyKind.RANDOM, Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofSeconds(1))).hasMessageContaining("containerConcurrency");
        assertThatThrownBy(() -> manager.report(new PodEvent(EventSource.POD, new RevisionId("x", "y"), "a",
                "10.0.0.1:80", PodState.READY))).isInstanceOf(UnknownRevisionException.class)
                .hasMessageContaining("x/y");
        assertThatThrownBy(() -> manager.removePod(REV, "nope")).hasMessageContaining("not host:port");
        assertThat(PodEvent.of(EventSource.POD, REV, "a", "[::1]:8080", "ready").address()).isEqualTo("[::1]:8080");
        assertThat(table.size()).isZero();
        assertThat(readiness.calls).isEmpty();
        assertThat(manager.writerFailures()).isZero();
    }

    // ------------------------------------------------------------------ failure recovery

    @Test
    void aFailingEventIsCountedAndTheRevisionRecoversAndServesItsWaiters() throws Exception {
        RevisionId rev = new RevisionId("default", "fragile");
        try (StateManager m = new StateManager(1, clock, ReadinessCheck.ALWAYS_READY, metrics)) {
            RevisionThrottler th = m.open(rev, settings);
            await(m.recalculate(rev, List.of(new Endpoint("a", "10.0.0.1:80", PodState.NOT_READY))));
            List<Rejection> rejected = new ArrayList<>();
            List<PodTracker> leased = new ArrayList<>();
            th.acquire(FAR, listener(rejected, leased));
            assertThat(th.queued()).isEqualTo(1);

            m.injectFaults(op -> {
                if (op.equals("mutate-pod")) {
                    throw new IllegalStateException("injected writer bug (expected by the test)");
                }
            });
            CompletableFuture<Void> bad = m.report(new PodEvent(EventSource.POD, rev, "a", "10.0.0.1:80", PodState.READY));
            assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("injected writer bug");
            assertThat(m.writerFailures()).isEqualTo(1);
            assertThat(metrics.writerFailures.get()).isEqualTo(1);
            m.injectFaults(op -> { });

            // While backing off, events wait in the inbox.
            CompletableFuture<Void> held = m.report(new PodEvent(EventSource.POD, rev, "a", "10.0.0.1:80", PodState.READY));
            m.tick();
            assertThat(held).isNotDone();

            clock.advance(StateManager.INITIAL_BACKOFF);
            m.tick();
            await(held);
            assertThat(m.consecutiveFailures(rev)).isZero();
            assertThat(leased).as("the waiter was re-evaluated after recovery").hasSize(1);
            assertThat(rejected).isEmpty();
            th.release(leased.get(0));
        }
    }

    @Test
    void aRevisionThatCannotRecoverRejectsItsWaitersInsteadOfHanging() {
        RevisionId rev = new RevisionId("default", "broken");
        try (StateManager m = new StateManager(1, clock, ReadinessCheck.ALWAYS_READY, metrics)) {
            RevisionThrottler th = m.open(rev, settings);
            List<Rejection> rejected = new ArrayList<>();
            th.acquire(FAR, listener(rejected));
            m.injectFaults(op -> {
                throw new IllegalStateException("writer keeps failing (expected by the test)");
            });
            m.report(new PodEvent(EventSource.POD, rev, "a", "10.0.0.1:80", PodState.NOT_READY));
            await().atMost(Duration.ofSeconds(10)).until(() -> m.writerFailures() == 1);
            Duration step = Duration.ofSeconds(5);
            for (Duration waited = Duration.ZERO; waited.compareTo(settings.recoveryTimeout()) < 0; waited = waited.plus(step)) {
                assertThat(rejected).isEmpty();
                clock.advance(step);
                m.tick();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> !rejected.isEmpty());
            assertThat(rejected).containsExactly(Rejection.REVISION_UNAVAILABLE);
            assertThat(m.writerFailures()).as("reconcile was retried with backoff").isGreaterThan(1);
            assertThat(th.queued()).isZero();
        }
    }

    @Test
    void metricsHooksSeeQueueTimeProcessingAndTransitions() {
        readyPod("a", "10.0.0.1:8080");
        pod("a", "10.0.0.1:8080", PodState.NOT_READY);
        assertThat(metrics.inboxWaits.get()).isGreaterThanOrEqualTo(2);
        assertThat(metrics.processed).containsKeys("mutate-pod", "validation-done");
        assertThat(metrics.transitions).contains("PENDING->READY", "READY->NOT_READY");
        await().atMost(Duration.ofSeconds(10)).until(() -> metrics.podsByState[PodState.NOT_READY.ordinal()] == 1);
    }

    private static LeaseListener listener(List<Rejection> rejected) {
        return listener(rejected, new ArrayList<>());
    }

    private static LeaseListener listener(List<Rejection> rejected, List<PodTracker> leased) {
        return new LeaseListener() {
            @Override
            public void onLease(PodTracker pod) {
                synchronized (leased) {
                    leased.add(pod);
                }
            }

            @Override
            public void onReject(Rejection reason) {
                synchronized (rejected) {
                    rejected.add(reason);
                }
            }
        };
    }

    // ------------------------------------------------------------------ operators' view

    @Test
    void podsInValidationAndTheirLastCheckArePublishedForOperators() {
        String address = "10.0.0.1:8080";
        pod("a", address, PodState.READY);
        flush();
        assertThat(manager.checks(REV)).containsExactly(new PodCheck("a", address, true, PodCheck.Result.NONE, null, 0));
        readiness.fail("a", address, "connection refused");
        await().atMost(Duration.ofSeconds(10)).until(() -> manager.checks(REV).get(0).last() == PodCheck.Result.FAILED);
        assertThat(manager.checks(REV)).containsExactly(
                new PodCheck("a", address, true, PodCheck.Result.FAILED, "connection refused", 1));
        assertThat(table.find(address)).as("still no slot").isNull();

        readiness.pending.clear();
        clock.advance(Duration.ofSeconds(1));
        manager.tick();
        await().atMost(Duration.ofSeconds(10)).until(() -> readiness.pending.containsKey("a@" + address));
        readiness.answer("a", address, false);
        await().atMost(Duration.ofSeconds(10)).until(() -> manager.checks(REV).get(0).failures() == 2);
        assertThat(manager.checks(REV).get(0).error()).as("a plain 'false'").isEqualTo("not ready");

        readiness.pending.clear();
        clock.advance(Duration.ofSeconds(2));
        manager.tick();
        await().atMost(Duration.ofSeconds(10)).until(() -> readiness.pending.containsKey("a@" + address));
        readiness.answer("a", address, true);
        await().atMost(Duration.ofSeconds(10)).until(() -> table.find(address) != null);
        flush();
        assertThat(manager.checks(REV)).containsExactly(new PodCheck("a", address, false, PodCheck.Result.PASSED, null, 0));

        pod("a", address, PodState.DRAINING);
        flush();
        assertThat(manager.checks(REV)).as("a pod that left is forgotten").isEmpty();
        assertThat(manager.checks(new RevisionId("default", "unknown"))).isEmpty();
    }

    @Test
    void aFailedCheckIsLoggedAtMostOnceEveryThirtySecondsPerPod() {
        Logger jul = Logger.getLogger(ReadinessLedger.class.getName());
        List<String> warnings = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getMessage().contains("readiness check of pod")) {
                    warnings.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(handler);
        try {
            String address = "10.0.0.1:8080";
            pod("a", address, PodState.READY);
            pod("b", "10.0.0.2:8080", PodState.READY);
            readiness.fail("a", address, "connection refused");
            readiness.fail("b", "10.0.0.2:8080", "connection refused");
            await().atMost(Duration.ofSeconds(10)).until(() -> metrics.validationsFailed.get() == 2);
            assertThat(warnings).hasSize(2).anyMatch(w -> w.equals("default/model-00001: readiness check of pod a at"
                    + " 10.0.0.1:8080 failed: connection refused (1 in a row; logged at most every 30 s per pod)"));

            await(manager.removePod(REV, "10.0.0.2:8080")); // b had its own line; from here on, only a

            // Retries within 30 s of the last line: counted, not logged.
            int failed = 2;
            for (int second : new int[] {1, 2, 4, 8}) {
                readiness.pending.remove("a@" + address);
                clock.advance(Duration.ofSeconds(second));
                manager.tick();
                await().atMost(Duration.ofSeconds(10)).until(() -> readiness.pending.containsKey("a@" + address));
                readiness.fail("a", address, "connection refused");
                int expected = ++failed;
                await().atMost(Duration.ofSeconds(10)).until(() -> metrics.validationsFailed.get() == expected);
            }
            flush();
            assertThat(warnings).hasSize(2);

            readiness.pending.remove("a@" + address);
            clock.advance(Duration.ofSeconds(16)); // 31 s after the first line
            manager.tick();
            await().atMost(Duration.ofSeconds(10)).until(() -> readiness.pending.containsKey("a@" + address));
            readiness.fail("a", address, "connection refused");
            await().atMost(Duration.ofSeconds(10)).until(() -> warnings.size() == 3);
            assertThat(warnings.get(2)).contains("pod a at 10.0.0.1:8080 failed: connection refused (6 in a row;");
        } finally {
            jul.removeHandler(handler);
        }
    }
}
