package dev.sluice.core.control;

import static dev.sluice.core.control.ControlTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Recalculations are logged at DEBUG each, and summarized at INFO at most once per 10 s (fake time). */
class RecalculationLogTest {

    private static final RevisionId REV = new RevisionId("default", "busy");
    private static final RecalculationSummary QUIET = new RecalculationSummary(0, 0, 0, 0, 0, 5);
    private static final RecalculationSummary ONE_ADDED = new RecalculationSummary(1, 0, 0, 0, 0, 4);

    private final Logger jul = Logger.getLogger(RecalculationLog.class.getName());
    private final List<String> info = new CopyOnWriteArrayList<>();
    private final List<String> debug = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        private final SimpleFormatter format = new SimpleFormatter();

        @Override
        public void publish(LogRecord r) {
            (r.getLevel().intValue() >= Level.INFO.intValue() ? info : debug).add(format.formatMessage(r));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private Level levelBefore;

    @BeforeEach
    void capture() {
        levelBefore = jul.getLevel();
        jul.setLevel(Level.ALL);
        jul.addHandler(handler);
    }

    @AfterEach
    void release() {
        jul.removeHandler(handler);
        jul.setLevel(levelBefore);
    }

    @Test
    void atMostOneSummaryPerTenSecondsCountingWhatHappenedSinceTheLast() {
        ManualClock clock = new ManualClock(5_000_000_000L);
        RecalculationLog log = new RecalculationLog(REV);

        log.recalculated(5, ONE_ADDED, clock.nanoTime());
        assertThat(info).containsExactly("default/busy: 1 of 1 recalculations since the last summary changed pods:"
                + " 1 added, 0 validating, 0 draining, 0 removed, 0 changed (at most one summary every 10 s;"
                + " each recalculation at DEBUG)");

        for (int i = 0; i < 99; i++) { // 9.9 s of churn: counted, not logged at INFO
            clock.advance(Duration.ofMillis(100));
            log.recalculated(5, i % 3 == 0 ? QUIET : new RecalculationSummary(1, 1, 1, 1, 1, 0), clock.nanoTime());
        }
        log.summarizeIfDue(clock.nanoTime());
        assertThat(info).hasSize(1);
        assertThat(debug).hasSize(100).allMatch(line -> line.startsWith("default/busy: recalculated from 5 endpoints: "));

        clock.advance(Duration.ofMillis(100)); // 10 s after the first line
        log.recalculated(5, ONE_ADDED, clock.nanoTime());
        assertThat(info).hasSize(2);
        assertThat(info.get(1)).startsWith("default/busy: 67 of 100 recalculations since the last summary changed pods:"
                + " 67 added, 66 validating, 66 draining, 66 removed, 66 changed");

        clock.advance(Duration.ofSeconds(60)); // quiet recalculations alone write no summary
        log.recalculated(5, QUIET, clock.nanoTime());
        log.summarizeIfDue(clock.nanoTime());
        assertThat(info).hasSize(2);

        log.recalculated(5, ONE_ADDED, clock.nanoTime()); // more than 10 s since the last line: at once
        assertThat(info).hasSize(3);
        assertThat(info.get(2)).startsWith("default/busy: 1 of 2 recalculations since the last summary changed pods: 1 added");

        clock.advance(Duration.ofSeconds(1));
        log.recalculated(5, ONE_ADDED, clock.nanoTime()); // held back...
        clock.advance(Duration.ofSeconds(8));
        log.summarizeIfDue(clock.nanoTime());
        assertThat(info).hasSize(3);
        clock.advance(Duration.ofSeconds(1)); // ...and written by the first sweep 10 s after the last line
        log.summarizeIfDue(clock.nanoTime());
        assertThat(info).hasSize(4);
        assertThat(info.get(3)).startsWith("default/busy: 1 of 1 recalculations since the last summary changed pods: 1 added");
    }

    @Test
    void aRevisionRecalculatedManyTimesInOneSecondWritesOneInfoLine() {
        ManualClock clock = new ManualClock(1_000_000_000L);
        RevisionSettings settings = new RevisionSettings(1, 10, 100, PolicyKind.FIRST_AVAILABLE,
                Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(20));
        try (StateManager m = new StateManager(1, clock, ReadinessCheck.ALWAYS_READY, ControlMetrics.NONE)) {
            m.open(REV, settings);
            List<Endpoint> a = List.of(new Endpoint("a", "10.0.0.1:80", PodState.NOT_READY));
            List<Endpoint> b = List.of(new Endpoint("b", "10.0.0.2:80", PodState.NOT_READY));
            for (int i = 0; i < 50; i++) {
                await(m.recalculate(REV, i % 2 == 0 ? a : b));
            }
            assertThat(info).hasSize(1);
            assertThat(debug).hasSize(50);

            clock.advance(Duration.ofSeconds(10));
            m.tick();
            await(m.flush(REV));
            assertThat(info).hasSize(2);
            assertThat(info.get(1)).startsWith("default/busy: 49 of 49 recalculations since the last summary changed pods:");
        }
    }
}
