package dev.sluice.core.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.RevisionId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CheckSchedulerTest {

    /** A check whose results the test decides; remembers the order checks started in. */
    static final class HeldCheck implements ReadinessCheck {
        final List<String> started = new ArrayList<>();
        final List<CompletableFuture<Boolean>> running = new ArrayList<>();

        @Override
        public synchronized CompletionStage<Boolean> check(RevisionId revision, String podId, String address) {
            started.add(revision.name() + "/" + podId);
            CompletableFuture<Boolean> f = new CompletableFuture<>();
            running.add(f);
            return f;
        }

        synchronized CompletableFuture<Boolean> take(int i) {
            return running.get(i);
        }
    }

    private static RevisionId rev(String name) {
        return new RevisionId("default", name);
    }

    @Test
    void noMoreThanTheBoundRunAndTheRestStartAsChecksEnd() {
        HeldCheck held = new HeldCheck();
        CheckScheduler s = new CheckScheduler(held, 3, 3);
        List<CompletionStage<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            results.add(s.check(rev("a"), "p" + i, "10.0.0." + i + ":80"));
        }
        assertThat(held.started).hasSize(3);
        assertThat(s.inFlight()).isEqualTo(3);
        assertThat(s.waiting()).isEqualTo(7);

        held.take(0).complete(true);
        assertThat(results.get(0).toCompletableFuture()).isCompletedWithValue(true);
        assertThat(held.started).hasSize(4).last().isEqualTo("a/p3");
        assertThat(s.inFlight()).isEqualTo(3);
    }

    @Test
    void revisionsTakeTurnsSoTheFirstPodsOfEveryRevisionAreCheckedEarly() {
        HeldCheck held = new HeldCheck();
        CheckScheduler s = new CheckScheduler(held, 1, 1);
        s.check(rev("big"), "p0", "10.0.0.1:80"); // starts at once
        for (int i = 1; i < 5; i++) {
            s.check(rev("big"), "p" + i, "10.0.0." + (i + 1) + ":80");
        }
        s.check(rev("small"), "q0", "10.0.1.1:80");
        s.check(rev("other"), "r0", "10.0.2.1:80");
        for (int i = 0; i < 6; i++) {
            held.take(i).complete(true);
        }
        // big/p0 ran alone; then one check per revision per turn, not the rest of big first.
        assertThat(held.started).containsExactly("big/p0", "small/q0", "other/r0", "big/p1", "big/p2", "big/p3",
                "big/p4");
    }

    @Test
    void aRevisionNeverRunsMoreThanItsOwnBoundWhileOthersWait() {
        HeldCheck held = new HeldCheck();
        CheckScheduler s = new CheckScheduler(held, 10, 2);
        for (int i = 0; i < 5; i++) {
            s.check(rev("a"), "p" + i, "10.0.0." + i + ":80");
        }
        s.check(rev("b"), "q0", "10.0.1.1:80");
        assertThat(held.started).containsExactly("a/p0", "a/p1", "b/q0");
        held.take(1).complete(false);
        assertThat(held.started).containsExactly("a/p0", "a/p1", "b/q0", "a/p2");
    }

    @Test
    void aFailedOrThrowingCheckFailsItsStageAndFreesItsSlot() throws Exception {
        HeldCheck held = new HeldCheck();
        AtomicInteger calls = new AtomicInteger();
        CheckScheduler s = new CheckScheduler((r, p, a) -> {
            if (calls.incrementAndGet() == 1) {
                throw new IllegalStateException("boom");
            }
            return held.check(r, p, a);
        }, 1, 1);
        CompletableFuture<Boolean> first = s.check(rev("a"), "p0", "10.0.0.1:80").toCompletableFuture();
        CompletableFuture<Boolean> second = s.check(rev("a"), "p1", "10.0.0.2:80").toCompletableFuture();
        assertThatThrownBy(first::get).isInstanceOf(ExecutionException.class)
                .hasMessageContaining("the readiness check threw java.lang.IllegalStateException: boom");
        assertThat(held.started).containsExactly("a/p1");
        held.take(0).completeExceptionally(new ReadinessCheck.Failed("connection refused"));
        assertThatThrownBy(second::get).hasMessageContaining("connection refused");
        assertThat(s.inFlight()).isZero();
        assertThat(s.waiting()).isZero();
    }

    @Test
    void checksThatCompleteAsTheyStartDoNotRecurse() {
        CompletableFuture<Boolean> held = new CompletableFuture<>();
        CheckScheduler s = new CheckScheduler(
                (r, p, a) -> p.equals("first") ? held : CompletableFuture.completedFuture(true), 1, 1);
        s.check(rev("a"), "first", "10.0.0.1:80");
        List<CompletableFuture<Boolean>> all = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            all.add(s.check(rev("r" + (i % 7)), "p" + i, "10.0.0.2:80").toCompletableFuture());
        }
        assertThat(s.waiting()).isEqualTo(100_000);
        held.complete(true); // the other 100,000 now start, and end, one after another on this thread
        assertThat(all).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
        assertThat(s.inFlight()).isZero();
        assertThat(s.waiting()).isZero();
    }

    @Test
    void theFirstWaveIsSmallAndEachEndedCheckLetsOneMoreStartUpToTheBound() {
        HeldCheck held = new HeldCheck();
        CheckScheduler s = new CheckScheduler(held, 8, 8);
        for (int i = 0; i < 20; i++) {
            s.check(rev("r" + i), "p" + i, "10.0.0." + i + ":80");
        }
        assertThat(s.inFlight()).as("slow start: the first wave").isEqualTo(CheckScheduler.INITIAL_WINDOW);
        held.take(0).complete(true);
        assertThat(s.inFlight()).as("one ended, the window grew by one").isEqualTo(CheckScheduler.INITIAL_WINDOW + 1);
        held.take(1).completeExceptionally(new ReadinessCheck.Failed("connection refused"));
        assertThat(s.inFlight()).as("a failed check ends too").isEqualTo(CheckScheduler.INITIAL_WINDOW + 2);
        for (int i = 2; i < 8; i++) {
            held.take(i).complete(true);
        }
        assertThat(s.inFlight()).as("never above the bound").isEqualTo(8);
        assertThat(held.started).hasSize(16);
    }

    @Test
    void boundsBelowOneAreRefusedWithTheirName() {
        assertThatThrownBy(() -> new CheckScheduler(ReadinessCheck.ALWAYS_READY, 0, 1))
                .hasMessage("maxInFlight must be >= 1, was 0");
        assertThatThrownBy(() -> new CheckScheduler(ReadinessCheck.ALWAYS_READY, 1, 0))
                .hasMessage("maxInFlightPerRevision must be >= 1, was 0");
    }
}
