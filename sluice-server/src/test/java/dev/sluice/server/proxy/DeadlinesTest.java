package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-loop deadline sweep, driven by a manual clock: every call runs on a real event loop
 * (as in the proxy), and the sweep is invoked by the test once the clock has moved, so nothing
 * waits on the wall clock. The loop's own timer for the sweep lies hours ahead and never fires.
 */
class DeadlinesTest {

    private static final long HOUR = Duration.ofHours(1).toNanos();
    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final ManualClock clock = new ManualClock(1_000_000_000L);
    private final Deadlines deadlines = new Deadlines(loop, clock);
    private final List<String> fired = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private <T> T onLoop(Callable<T> c) throws Exception {
        return loop.submit(c).get(5, TimeUnit.SECONDS);
    }

    private Deadlines.Expiring recorder(String name) {
        return kind -> fired.add(name + ":" + kind);
    }

    @Test
    void firesWhatIsDueInOrderAndNothingEarly() throws Exception {
        onLoop(() -> deadlines.add(HOUR, recorder("a"), 0));
        clock.advance(Duration.ofMinutes(1));
        onLoop(() -> deadlines.add(HOUR, recorder("b"), 1));
        onLoop(() -> deadlines.add(2 * HOUR, recorder("c"), 2));
        assertThat(onLoop(() -> deadlines.nextSweep().getAsLong())).isEqualTo(1_000_000_000L + HOUR);

        clock.advance(Duration.ofMinutes(59).minusNanos(1));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).as("a is one nanosecond short of its deadline").isEmpty();

        clock.advance(Duration.ofMinutes(1).plusNanos(1));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).containsExactly("a:0", "b:1");
        assertThat(onLoop(() -> deadlines.nextSweep().getAsLong()))
                .as("re-armed for the next earliest head, in the other lane")
                .isEqualTo(1_000_000_000L + Duration.ofMinutes(1).toNanos() + 2 * HOUR);

        clock.advance(Duration.ofHours(1));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).containsExactly("a:0", "b:1", "c:2");
        assertThat(onLoop(() -> deadlines.nextSweep().isPresent())).as("nothing left to wait for").isFalse();
    }

    @Test
    void aCancelledDeadlineNeverFires() throws Exception {
        Deadlines.Deadline a = onLoop(() -> deadlines.add(HOUR, recorder("a"), 0));
        Deadlines.Deadline b = onLoop(() -> deadlines.add(HOUR, recorder("b"), 0));
        Deadlines.Deadline c = onLoop(() -> deadlines.add(HOUR, recorder("c"), 0));
        onLoop(() -> { b.cancel(); a.cancel(); a.cancel(); return null; });
        assertThat(a.pending()).isFalse();
        assertThat(c.pending()).isTrue();
        clock.advance(Duration.ofHours(2));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).containsExactly("c:0");
        assertThat(c.pending()).isFalse();
        onLoop(() -> { c.cancel(); return null; }); // after firing: harmless
    }

    @Test
    void aShorterDeadlineRearmsTheSweepEarlier() throws Exception {
        onLoop(() -> deadlines.add(HOUR, recorder("long"), 0));
        onLoop(() -> deadlines.add(HOUR / 2, recorder("short"), 0));
        assertThat(onLoop(() -> deadlines.nextSweep().getAsLong())).isEqualTo(1_000_000_000L + HOUR / 2);
        clock.advance(Duration.ofMinutes(30));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).containsExactly("short:0");
        assertThat(onLoop(() -> deadlines.nextSweep().getAsLong())).isEqualTo(1_000_000_000L + HOUR);
    }

    @Test
    void aCallbackMayAddAndCancelDeadlines() throws Exception {
        Deadlines.Deadline victim = onLoop(() -> deadlines.add(HOUR, recorder("victim"), 0));
        onLoop(() -> deadlines.add(HOUR / 2, kind -> {
            fired.add("first");
            victim.cancel();
            deadlines.add(HOUR, recorder("added"), 1);
        }, 0));
        clock.advance(Duration.ofMinutes(30));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).containsExactly("first");
        assertThat(onLoop(() -> deadlines.nextSweep().getAsLong()))
                .as("armed for the deadline the callback added")
                .isEqualTo(1_000_000_000L + HOUR / 2 + HOUR);
        clock.advance(Duration.ofHours(1));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).containsExactly("first", "added:1");
    }

    @Test
    void aRearmedDeadlineMovesToItsNewLaneAndFiresOnceThere() throws Exception {
        Deadlines.Deadline d = onLoop(() -> deadlines.add(HOUR, recorder("conn"), 7));
        onLoop(() -> deadlines.add(HOUR, recorder("other"), 0));
        clock.advance(Duration.ofMinutes(30));
        onLoop(() -> { deadlines.rearm(d, HOUR / 4); return null; });
        assertThat(onLoop(() -> deadlines.nextSweep().getAsLong())).as("the sweep comes forward for it")
                .isEqualTo(1_000_000_000L + HOUR / 2 + HOUR / 4);
        clock.advance(Duration.ofMinutes(15));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).containsExactly("conn:7");
        onLoop(() -> { deadlines.rearm(d, HOUR); return null; }); // after firing: armed again
        clock.advance(Duration.ofMinutes(15));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).as("not at its old time").containsExactly("conn:7", "other:0");
        clock.advance(Duration.ofHours(1));
        onLoop(() -> { deadlines.sweep(); return null; });
        assertThat(fired).containsExactly("conn:7", "other:0", "conn:7");
    }
}
