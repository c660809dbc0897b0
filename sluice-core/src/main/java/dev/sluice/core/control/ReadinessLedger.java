package dev.sluice.core.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * One revision's readiness bookkeeping, used by its {@link RevisionWriter} alone: which pods
 * wait for a check (and which identity each check is for), failed checks waiting for their
 * retry, and each address's last result — published as an immutable list for operators.
 *
 * <h2>Implementation notes</h2>
 * Every method but {@link #checks()} is called by the revision's writer thread only, so the
 * maps need no lock. {@link #publish} replaces {@code checks}, an immutable list in a volatile
 * field: readers on other threads (the control API, a request timing out) see a whole
 * snapshot, never the maps. A failed check is logged at most once per
 * {@link #FAILED_CHECK_LOG_NANOS} per pod, on the injected clock (times are passed in).
 */
final class ReadinessLedger {

    private static final System.Logger LOG = System.getLogger(ReadinessLedger.class.getName());

    /** The first retry of a failed check; each further one waits twice as long, up to the max. */
    static final long FIRST_RETRY_NANOS = 1_000_000_000L;
    static final long MAX_RETRY_NANOS = 30_000_000_000L;
    /** A failed check is logged at most this often per pod (a pod down for hours is one line per 30 s). */
    static final long FAILED_CHECK_LOG_NANOS = 30_000_000_000L;

    /** A pod whose validation failed but that is still claimed ready: retried with backoff. */
    private record Retry(String podId, int attempts, long dueNanos) {
    }

    /** The last check of an address; {@code loggedAtNanos} is meaningful once {@code logged}. */
    private record LastCheck(String podId, boolean passed, String error, int failures, boolean logged,
            long loggedAtNanos) {
    }

    private final RevisionId id;
    /** Address → the pod identity its running check is for. */
    private final Map<String, String> validating = new HashMap<>();
    private final Map<String, Retry> retries = new HashMap<>();
    private final Map<String, LastCheck> lastChecks = new HashMap<>();
    private boolean changed;
    private volatile List<PodCheck> checks = List.of();

    ReadinessLedger(RevisionId id) {
        this.id = id;
    }

    /** Addresses it holds anything for (checks running, retries, last results). */
    int size() {
        return validating.size() + retries.size() + lastChecks.size();
    }

    /** Whether the published view may be out of date. */
    boolean isChanged() {
        return changed;
    }

    /** Whether no check is running and none is waiting for its retry. */
    boolean isIdle() {
        return validating.isEmpty() && retries.isEmpty();
    }

    /** The identity a check at {@code address} is running for, or null. */
    String validatingId(String address) {
        return validating.get(address);
    }

    /** A check for {@code podId} at {@code address} starts (superseding any earlier one). */
    void startValidating(String podId, String address) {
        validating.put(address, podId);
        changed = true;
    }

    void stopValidating(String address) {
        validating.remove(address);
    }

    /** The identity whose failed check is scheduled for a retry at {@code address}, or null. */
    String retryingId(String address) {
        Retry r = retries.get(address);
        return r == null ? null : r.podId();
    }

    void cancelRetry(String address) {
        retries.remove(address);
    }

    /** A check of {@code podId} failed: retry it later, backing off per failure in a row. */
    void scheduleRetry(String podId, String address, long now) {
        Retry before = retries.get(address);
        int attempts = before != null && before.podId().equals(podId) ? before.attempts() + 1 : 1;
        long delay = Math.min(MAX_RETRY_NANOS, FIRST_RETRY_NANOS << Math.min(attempts - 1, 20));
        retries.put(address, new Retry(podId, attempts, now + delay));
    }

    /** Hands each retry that is due and has no check running to {@code validate(podId, address)}. */
    void forEachDueRetry(long now, BiConsumer<String, String> validate) {
        if (retries.isEmpty()) {
            return;
        }
        for (Map.Entry<String, Retry> r : new ArrayList<>(retries.entrySet())) {
            if (r.getValue().dueNanos() - now <= 0 && !validating.containsKey(r.getKey())) {
                validate.accept(r.getValue().podId(), r.getKey());
            }
        }
    }

    /** The pod at {@code address} is gone: no check or retry is pending for it. */
    void forget(String address) {
        validating.remove(address);
        retries.remove(address);
    }

    /** Keeps pending checks and retries only for {@code addresses} (a discovery snapshot's). */
    void retainOnly(Set<String> addresses) {
        validating.keySet().retainAll(addresses);
        retries.keySet().retainAll(addresses);
    }

    /** The revision closes: nothing is pending any more. */
    void clearPending() {
        validating.clear();
        retries.clear();
    }

    /** Remembers a check's result for operators, and logs a failure (rate-limited per pod). */
    void record(String podId, String address, String failure, long now) {
        LastCheck before = lastChecks.get(address);
        boolean same = before != null && before.podId().equals(podId);
        boolean logged = same && before.logged();
        long loggedAt = same ? before.loggedAtNanos() : 0;
        if (failure == null) {
            lastChecks.put(address, new LastCheck(podId, true, null, 0, logged, loggedAt));
        } else {
            int failures = same && !before.passed() ? before.failures() + 1 : 1;
            if (!logged || now - loggedAt >= FAILED_CHECK_LOG_NANOS) {
                LOG.log(System.Logger.Level.WARNING, id + ": readiness check of pod " + podId + " at " + address
                        + " failed: " + failure + " (" + failures + " in a row; logged at most every "
                        + FAILED_CHECK_LOG_NANOS / 1_000_000_000L + " s per pod)");
                logged = true;
                loggedAt = now;
            }
            lastChecks.put(address, new LastCheck(podId, false, failure, failures, logged, loggedAt));
        }
        changed = true;
    }

    /** Something the published view shows may have changed; {@link #publish} rebuilds it. */
    void changed() {
        changed = true;
    }

    /** The last published view; safe from any thread. */
    List<PodCheck> checks() {
        return checks;
    }

    /**
     * Publishes {@link #checks()} if it may have changed: pods in validation, and the last
     * check of every address still validating, retried or tracked in {@code table}.
     */
    void publish(PodTable table) {
        if (!changed) {
            return;
        }
        changed = false;
        lastChecks.keySet().removeIf(a -> !validating.containsKey(a) && !retries.containsKey(a) && table.find(a) == null);
        Set<String> addresses = new LinkedHashSet<>(validating.keySet());
        addresses.addAll(retries.keySet());
        addresses.addAll(lastChecks.keySet());
        List<PodCheck> out = new ArrayList<>(addresses.size());
        for (String a : addresses) {
            String waitingFor = validating.get(a);
            Retry retry = retries.get(a);
            LastCheck last = lastChecks.get(a);
            String podId = waitingFor != null ? waitingFor : retry != null ? retry.podId() : last.podId();
            if (last != null && !last.podId().equals(podId)) {
                last = null;
            }
            PodCheck.Result result = last == null ? PodCheck.Result.NONE
                    : last.passed() ? PodCheck.Result.PASSED : PodCheck.Result.FAILED;
            out.add(new PodCheck(podId, a, waitingFor != null || retry != null, result,
                    last == null ? null : last.error(), last == null ? 0 : last.failures()));
        }
        checks = List.copyOf(out);
    }
}
