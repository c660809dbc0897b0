package dev.sluice.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.Demand;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The active/inactive answer and its pushes, on a manual clock. */
class ActivitySignalsTest {

    private static final RevisionId REV = new RevisionId("default", "hello");
    private static final Duration GRACE = Duration.ofSeconds(30);
    private static final Duration HEARTBEAT = Duration.ofSeconds(5);

    /** Far from 0: a heartbeat must be measured from the last message, not from the clock's origin. */
    private final ManualClock clock = new ManualClock(Duration.ofDays(3).toNanos());
    private final AtomicReference<Demand> demand = new AtomicReference<>(new Demand(0, 0, 0, 1, 0));
    private final ActivitySignals signals = new ActivitySignals(
            id -> id.equals(REV) ? new RevisionDemand(id, demand.get(), GRACE) : null, clock, HEARTBEAT);
    private final List<Boolean> sent = new CopyOnWriteArrayList<>();

    @Test
    void opensWithTheCurrentAnswerPushesTrueOnTheRequestAndFalseAfterTheGrace() {
        signals.subscribe(REV, sent::add);
        assertThat(sent).containsExactly(false);

        demand.set(new Demand(1, 0, 0, 1, 1));
        signals.listenerFor(REV).queuedWithNoPod();
        assertThat(sent).containsExactly(false, true);
        signals.listenerFor(REV).queuedWithNoPod();
        assertThat(sent).as("a second request changes nothing").containsExactly(false, true);

        demand.set(new Demand(0, 0, 1, 1, 1));
        signals.tick();
        assertThat(sent).as("the request was served: demand zero from now").containsExactly(false, true);
        clock.advance(GRACE.minusSeconds(1));
        signals.tick();
        assertThat(sent).as("within the grace: still active, heartbeat due").containsExactly(false, true, true);
        assertThat(signals.isActive(REV)).isTrue();

        clock.advance(Duration.ofSeconds(1));
        signals.tick();
        assertThat(sent).containsExactly(false, true, true, false);
        assertThat(signals.isActive(REV)).isFalse();
    }

    @Test
    void trafficBetweenTwoReadingsKeepsTheRevisionActive() {
        signals.subscribe(REV, sent::add);
        demand.set(new Demand(0, 0, 1, 1, 5));
        signals.tick();
        demand.set(new Demand(0, 0, 1, 1, 9));
        clock.advance(GRACE.minusSeconds(1));
        signals.tick();
        assertThat(signals.isActive(REV)).as("4 requests came and went since the last reading").isTrue();
        clock.advance(GRACE);
        signals.tick();
        assertThat(signals.isActive(REV)).as("none since the reading a grace ago").isFalse();
    }

    @Test
    void heartbeatsRepeatTheAnswerEveryInterval() {
        signals.subscribe(REV, sent::add);
        signals.tick();
        assertThat(sent).containsExactly(false);
        clock.advance(HEARTBEAT);
        signals.tick();
        clock.advance(Duration.ofSeconds(1));
        signals.tick();
        assertThat(sent).containsExactly(false, false);
    }

    @Test
    void aClosedOrFailingStreamGetsNoMoreMessages() {
        ActivitySignals.Subscription sub = signals.subscribe(REV, sent::add);
        List<Boolean> broken = new CopyOnWriteArrayList<>();
        signals.subscribe(REV, active -> {
            broken.add(active);
            if (broken.size() == 2) {
                throw new IllegalStateException("stream cancelled");
            }
        });
        sub.close();
        signals.queuedWithNoPod(REV);
        signals.queuedWithNoPod(REV);
        clock.advance(HEARTBEAT);
        signals.tick();
        assertThat(sent).containsExactly(false);
        assertThat(broken).containsExactly(false, true);
    }

    @Test
    void anUnknownRevisionIsInactive() {
        assertThat(signals.isActive(new RevisionId("default", "other"))).isFalse();
    }
}
