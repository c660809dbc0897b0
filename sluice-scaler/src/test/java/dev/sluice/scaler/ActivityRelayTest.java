package dev.sluice.scaler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.Demand;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A replica that relays another's answer (several replicas: the owner decides), on a manual
 * clock: it repeats the owner's answer, a notice from the owner pushes {@code true} at once and
 * is not undone by a reading that started before it, and a figure that cannot be read keeps the
 * answer.
 */
class ActivityRelayTest {

    private static final RevisionId REV = new RevisionId("default", "hello");
    private static final Duration GRACE = Duration.ofSeconds(30);

    private final ManualClock clock = new ManualClock(Duration.ofDays(3).toNanos());
    private final AtomicReference<Boolean> owners = new AtomicReference<>(false);
    private final AtomicReference<Runnable> duringReading = new AtomicReference<>(() -> { });
    private final List<RevisionId> announced = new CopyOnWriteArrayList<>();
    private final List<Boolean> sent = new CopyOnWriteArrayList<>();
    private final AtomicInteger readings = new AtomicInteger();
    private final ActivitySignals signals = new ActivitySignals(id -> {
        readings.incrementAndGet();
        duringReading.get().run();
        Boolean a = owners.get();
        if (a == null) {
            throw new DemandUnavailable("the owner cannot be asked");
        }
        return new RevisionDemand(id, new Demand(0, 0, 0, 1, 0), GRACE, a);
    }, clock, Duration.ofHours(1), announced::add);

    @Test
    void repeatsTheOwnersAnswer() {
        signals.subscribe(REV, sent::add);
        owners.set(true);
        clock.advance(Duration.ofSeconds(1));
        signals.tick();
        assertThat(signals.isActive(REV)).isTrue();
        owners.set(false);
        clock.advance(Duration.ofSeconds(1));
        signals.tick();
        assertThat(sent).containsExactly(false, true, false);
        assertThat(announced).as("nothing was queued here").isEmpty();
    }

    @Test
    void aNoticeFromTheOwnerPushesTrueAtOnceAndAnOlderFalseReadingDoesNotUndoIt() {
        signals.subscribe(REV, sent::add);
        clock.advance(Duration.ofSeconds(1));
        // The owner's notice arrives while a tick's reading (started before it) is under way.
        duringReading.set(() -> {
            duringReading.set(() -> { });
            clock.advance(Duration.ofMillis(3));
            signals.queuedWithNoPod(REV);
        });
        signals.tick();
        assertThat(sent).containsExactly(false, true);
        assertThat(announced).as("a relayed notice is not announced again").isEmpty();

        clock.advance(Duration.ofSeconds(1));
        owners.set(true);
        signals.tick();
        owners.set(false);
        clock.advance(Duration.ofSeconds(1));
        signals.tick();
        assertThat(sent).as("a reading after the notice: the owner's false stands").containsExactly(false, true, false);
    }

    @Test
    void aFigureThatCannotBeReadKeepsTheAnswerUntilTheNextTick() {
        owners.set(true);
        signals.subscribe(REV, sent::add);
        owners.set(null);
        clock.advance(Duration.ofSeconds(1));
        signals.tick();
        assertThat(sent).containsExactly(true);
        owners.set(false);
        signals.tick();
        assertThat(sent).containsExactly(true, false);
    }

    @Test
    void theTickDoesNotAskTheOwnerForARevisionNoStreamWatches() {
        assertThat(signals.isActive(REV)).isFalse();
        signals.tick();
        signals.tick();
        assertThat(readings).as("isActive's own reading only").hasValue(1);
        ActivitySignals.Subscription sub = signals.subscribe(REV, sent::add);
        signals.tick();
        assertThat(readings).hasValue(3);
        sub.close();
        signals.tick();
        assertThat(readings).hasValue(3);
    }

    @Test
    void onlyARequestQueuedHereOnTheEdgeToActiveIsAnnounced() {
        ActivitySignals local = new ActivitySignals(id -> new RevisionDemand(id, new Demand(1, 0, 0, 1, 1), GRACE),
                clock, Duration.ofHours(1), announced::add);
        local.listenerFor(REV).queuedWithNoPod();
        local.listenerFor(REV).queuedWithNoPod();
        assertThat(announced).containsExactly(REV);
    }
}
