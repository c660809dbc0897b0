package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * Starts one revision's readiness checks and posts each result back into the revision's
 * {@link Inbox}, so the writer applies it on its own thread like any other operation. The
 * writer says what to apply ({@link Outcome}); this class knows how a check ends (passed,
 * {@code false}, failed with a reason, or threw before it started) and words the reason.
 *
 * <h2>Implementation notes</h2>
 * Checks are started on the writer's thread; they complete on whatever thread the
 * {@link ReadinessCheck} uses. The completion touches nothing of the writer's: it only posts
 * to the inbox (a lock-free queue), whose hand-over to the writer's thread is the
 * happens-before edge for the result. Stateless apart from what it was given.
 */
final class ReadinessProbes {

    /** Applies a check's result on the writer's thread; {@code failure} is null for a passed check. */
    @FunctionalInterface
    interface Outcome {
        void apply(RevisionWriter writer, String podId, String address, String failure);
    }

    private static final System.Logger LOG = System.getLogger(ReadinessProbes.class.getName());

    private final RevisionId id;
    private final ReadinessCheck readiness;
    private final Inbox inbox;

    ReadinessProbes(RevisionId id, ReadinessCheck readiness, Inbox inbox) {
        this.id = id;
        this.readiness = readiness;
        this.inbox = inbox;
    }

    /** Checks a pod before it gets a slot; a check that throws counts as failed (and is logged). */
    void validate(String podId, String address, Operation done, Outcome outcome) {
        CompletionStage<Boolean> result;
        try {
            result = readiness.check(id, podId, address);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, id + ": readiness check for " + podId + " at " + address + " threw", e);
            String failure = "the readiness check threw " + e;
            inbox.post(done, w -> outcome.apply(w, podId, address, failure));
            return;
        }
        postWhenDone(result, podId, address, done, outcome);
    }

    /** Probes a pod out of rotation; a check that throws is skipped (the next sweep probes again). */
    void probe(String podId, String address, Operation done, Outcome outcome) {
        CompletionStage<Boolean> result;
        try {
            result = readiness.check(id, podId, address);
        } catch (RuntimeException e) {
            return;
        }
        postWhenDone(result, podId, address, done, outcome);
    }

    private void postWhenDone(CompletionStage<Boolean> result, String podId, String address, Operation done,
            Outcome outcome) {
        result.whenComplete((ok, err) -> {
            String failure = failure(ok, err);
            inbox.post(done, w -> outcome.apply(w, podId, address, failure));
        });
    }

    /** Null for a passed check, else why it failed, in words. */
    static String failure(Boolean ok, Throwable err) {
        if (err == null) {
            return Boolean.TRUE.equals(ok) ? null : "not ready";
        }
        Throwable t = err;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}
