package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Runs readiness checks of any kind with bounded concurrency: at most {@code maxInFlight} in
 * the process and {@code maxInFlightPerRevision} per revision, taking turns between revisions,
 * so that 10,000 pods announced at once are checked a few dozen at a time instead of all at
 * once (a herd that timed out its own checks), and the first pods of every revision are
 * checked early rather than all of one big revision first. A check's own timeout starts when
 * it starts, not while it waits its turn. It wraps the check the server uses (any
 * {@link ReadinessCheck}), so the bound holds for every kind of check.
 *
 * <p><b>Slow start.</b> The process bound is reached gradually: at most {@link #INITIAL_WINDOW}
 * checks at first, one more for each check that ends (so the window doubles with each round of
 * answers, as TCP's does), up to {@code maxInFlight}; it never shrinks. On a loaded 2-core
 * machine the first full wave of 64 checks, started while the JVM was still cold, timed out at
 * 1 s by the dozen (33-72 of them, all within the first two seconds; docs/benchmarks.md); a
 * small first wave warms the path, and a quiet machine reaches the bound within a few round
 * trips of a few milliseconds.
 *
 * <h2>Implementation notes</h2>
 * <b>State</b>, under {@code this} lock: per revision with work, a FIFO of waiting checks and
 * its count in flight ({@link Lane}); a ring of the lanes that have a check waiting and are
 * below the per-revision bound ({@link #ready}); the process count in flight and the window. A lane is in the
 * ring at most once ({@code inRing}); a lane with nothing waiting or in flight is dropped, so
 * idle revisions cost nothing here.
 *
 * <p><b>Round robin.</b> To start a check, the lane at the head of the ring gives its oldest
 * check and, if it still has one waiting and room, goes to the tail: one check per revision per
 * turn. A completion frees a slot in the process and in its lane (re-entering the ring if it
 * was held back by its bound) and starts what may now start.
 *
 * <p><b>Threads.</b> {@link #check} is called by the revisions' writers; completions arrive on
 * whatever thread the wrapped check completes on. Checks are started outside the lock (a
 * check may do work before it returns) by one thread at a time, in a loop that claims each
 * slot under the lock first, so the bounds hold; another thread that would start checks
 * meanwhile leaves a note ({@code again}) for the loop instead, so nothing is left unstarted
 * and a check that completes synchronously does not recurse. A wrapped check that throws, or whose
 * result stage fails, completes the caller's stage exceptionally and frees its slot.
 */
public final class CheckScheduler implements ReadinessCheck {

    /** Default bound in the process. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 64;
    /** Default bound per revision. */
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_REVISION = 32;
    /** Checks allowed in flight before any has ended (see "Slow start"). */
    public static final int INITIAL_WINDOW = 4;

    /** One waiting check. */
    private record Job(Lane lane, String podId, String address, CompletableFuture<Boolean> result) {
    }

    /** One revision's waiting checks and how many of its checks run. */
    private static final class Lane {
        final RevisionId revision;
        final ArrayDeque<Job> waiting = new ArrayDeque<>(4);
        int inFlight;
        boolean inRing;

        Lane(RevisionId revision) {
            this.revision = revision;
        }
    }

    private final ReadinessCheck check;
    private final int maxInFlight;
    private final int maxInFlightPerRevision;
    private final Map<RevisionId, Lane> lanes = new HashMap<>();
    private final ArrayDeque<Lane> ready = new ArrayDeque<>();
    private int inFlight;
    private int waiting;
    /** Checks allowed in flight now: grows by one per ended check up to {@link #maxInFlight}. */
    private int window;
    /** A thread is in the start loop; {@code again}: something changed since it last looked. */
    private boolean starting;
    private boolean again;

    /**
     * @throws IllegalArgumentException if a bound is below 1
     */
    public CheckScheduler(ReadinessCheck check, int maxInFlight, int maxInFlightPerRevision) {
        this.check = Objects.requireNonNull(check, "check");
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1, was " + maxInFlight);
        }
        if (maxInFlightPerRevision < 1) {
            throw new IllegalArgumentException("maxInFlightPerRevision must be >= 1, was " + maxInFlightPerRevision);
        }
        this.maxInFlight = maxInFlight;
        this.maxInFlightPerRevision = maxInFlightPerRevision;
        this.window = Math.min(maxInFlight, INITIAL_WINDOW);
    }

    @Override
    public CompletionStage<Boolean> check(RevisionId revision, String podId, String address) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        synchronized (this) {
            Lane lane = lanes.computeIfAbsent(revision, Lane::new);
            lane.waiting.add(new Job(lane, podId, address, result));
            waiting++;
            enterRing(lane);
        }
        startWhatMay();
        return result;
    }

    /** Checks running now. */
    public synchronized int inFlight() {
        return inFlight;
    }

    /** Checks waiting for their turn. */
    public synchronized int waiting() {
        return waiting;
    }

    /**
     * Starts checks while the bounds allow, one per revision per turn. One thread at a time
     * runs this loop; a call that finds it running asks it to look again and returns, so a
     * check that completes inside its own start (on the starting thread) does not recurse.
     */
    private void startWhatMay() {
        synchronized (this) {
            if (starting) {
                again = true;
                return;
            }
            starting = true;
        }
        for (;;) {
            Job job;
            synchronized (this) {
                job = nextLocked();
                if (job == null) {
                    if (!again) {
                        starting = false;
                        return;
                    }
                    again = false;
                    continue;
                }
            }
            start(job);
        }
    }

    /** Claims a slot for the next check in turn, or returns null. */
    private Job nextLocked() {
        if (inFlight >= window) {
            return null;
        }
        Lane lane = ready.poll();
        if (lane == null) {
            return null;
        }
        lane.inRing = false;
        Job job = lane.waiting.poll();
        waiting--;
        lane.inFlight++;
        inFlight++;
        enterRing(lane);
        return job;
    }

    private void enterRing(Lane lane) {
        if (!lane.inRing && !lane.waiting.isEmpty() && lane.inFlight < maxInFlightPerRevision) {
            lane.inRing = true;
            ready.add(lane);
        }
    }

    private void start(Job job) {
        CompletionStage<Boolean> stage;
        try {
            stage = check.check(job.lane.revision, job.podId, job.address);
        } catch (RuntimeException e) {
            finished(job.lane);
            job.result.completeExceptionally(new Failed("the readiness check threw " + e));
            return;
        }
        stage.whenComplete((ok, err) -> {
            finished(job.lane);
            if (err != null) {
                job.result.completeExceptionally(err);
            } else {
                job.result.complete(ok);
            }
        });
    }

    private void finished(Lane lane) {
        synchronized (this) {
            lane.inFlight--;
            inFlight--;
            if (window < maxInFlight) {
                window++;
            }
            if (lane.inFlight == 0 && lane.waiting.isEmpty()) {
                lanes.remove(lane.revision);
            } else {
                enterRing(lane);
            }
        }
        startWhatMay();
    }
}
