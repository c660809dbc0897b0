package dev.sluice.scaler;

import dev.sluice.core.NanoClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.ZeroPodListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Whether each revision is active — should run at least one pod — and the pushes of that answer
 * to KEDA's {@code StreamIsActive} streams: {@code true} the moment a request is queued at zero
 * pods, {@code false} once demand has been zero for the revision's {@code scaleToZeroGrace},
 * the current answer when a stream opens, and the same again every heartbeat.
 *
 * <p>A revision is active while it has demand (requests queued or in flight, or admitted since
 * the last reading) and for {@code scaleToZeroGrace} after it last had some.
 *
 * <h2>Implementation notes</h2>
 * Three kinds of thread: request threads call {@link #queuedWithNoPod} (through the
 * {@link ZeroPodListener} from {@link #listenerFor}); a single ticker thread calls
 * {@link #tick()} every second or so; gRPC threads open streams and ask {@link #isActive}.
 * Each revision's {@link Signal} guards its state and its subscribers with its own monitor,
 * and every message is sent under it, so a stream sees its messages in the order decided and
 * two threads never write to one stream at once.
 *
 * <p>The request path takes the monitor only on the edge to active: it first writes
 * {@code poked} and then reads {@code active} (both volatile); the ticker, going inactive,
 * first writes {@code active = false} and then reads {@code poked}. By the order of volatile
 * accesses at least one of them sees the other's write: either the request sees the revision
 * inactive and pushes {@code true} itself, or the ticker sees the poke and stays active. So
 * no queued request is left without a {@code true}, and the push happens on the request's own
 * thread, with no polling between the arrival and the message.
 *
 * <p>With several replicas a revision's answer is decided where its queue is (its owner): a
 * {@link RevisionDemand#relayed() relayed} reading carries the owner's answer and this replica
 * repeats it; a request queued at zero pods here calls {@code activatedHere} on the edge to
 * active, under the monitor and before its own streams are sent {@code true} (the cluster hands
 * the notice to a thread of its own and tells the other replicas, which call
 * {@link #queuedWithNoPod}). A relayed
 * {@code false} read before such a poke arrived does not undo it: a reading is taken with the
 * time it started, and a poke at or after that time wins.
 *
 * <p>Everything time-related reads the injected {@link NanoClock}: the grace and the heartbeat
 * are tested on {@code ManualClock}.
 */
public final class ActivitySignals {

    /** Receives a revision's answers in order; called under the revision's monitor. */
    @FunctionalInterface
    public interface Sink {
        /** @throws RuntimeException when the stream is gone: the sink is then dropped */
        void send(boolean active);
    }

    /** An open subscription; {@link #close()} stops its messages. */
    public interface Subscription extends AutoCloseable {
        @Override
        void close();
    }

    private static final Runnable NO_ONE = () -> { };

    private final DemandSource demand;
    private final NanoClock clock;
    private final long heartbeatNanos;
    private final Consumer<RevisionId> activatedHere;
    private final ConcurrentHashMap<RevisionId, Signal> signals = new ConcurrentHashMap<>();

    /** @param heartbeat how often an open stream is sent the current answer even if it did not change */
    public ActivitySignals(DemandSource demand, NanoClock clock, Duration heartbeat) {
        this(demand, clock, heartbeat, id -> { });
    }

    /**
     * @param activatedHere told, on the request's thread, when a request queued at zero pods in this
     *                      replica turned its revision active; must not block
     */
    public ActivitySignals(DemandSource demand, NanoClock clock, Duration heartbeat,
            Consumer<RevisionId> activatedHere) {
        this.demand = Objects.requireNonNull(demand, "demand");
        this.activatedHere = Objects.requireNonNull(activatedHere, "activatedHere");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (heartbeat.isNegative() || heartbeat.isZero()) {
            throw new IllegalArgumentException("heartbeat must be positive, was " + heartbeat);
        }
        this.heartbeatNanos = heartbeat.toNanos();
    }

    /** The hook for a revision's throttler: requests queued at zero pods push {@code true}. */
    public ZeroPodListener listenerFor(RevisionId id) {
        Objects.requireNonNull(id, "id");
        Runnable tellTheOthers = () -> activatedHere.accept(id);
        return new ZeroPodListener() {
            @Override
            public void queuedWithNoPod() {
                // Looked up each time (one map read): the ticker may have dropped the entry
                // while the revision was being opened, before Sluice ran it.
                signal(id).poke(tellTheOthers);
            }

            @Override
            public void podsRoutable() {
                // Pods arriving change nothing: the demand that called for them keeps it active.
            }
        };
    }

    /**
     * For a revision whose throttler has no listener: tests, or another replica saying a request
     * was queued there at zero pods (not told to {@code activatedHere} again).
     */
    public void queuedWithNoPod(RevisionId id) {
        signal(id).poke(NO_ONE);
    }

    /**
     * Whether the revision is active now, read afresh; false, and nothing remembered, when Sluice
     * does not run it.
     */
    public boolean isActive(RevisionId id) {
        long now = clock.nanoTime();
        RevisionDemand d = demand.find(id);
        if (d == null) {
            return false;
        }
        return signal(id).evaluate(d, now, false);
    }

    /**
     * Whether the revision is active on a reading the caller just took of this replica's own
     * demand (another replica asking the owner); blocks on nothing.
     */
    public boolean isActive(RevisionDemand d) {
        return signal(d.id()).evaluate(d, clock.nanoTime(), false);
    }

    /**
     * Sends {@code sink} the revision's answer now, then every change and heartbeat until the
     * subscription is closed or a send fails.
     */
    public Subscription subscribe(RevisionId id, Sink sink) {
        Signal s = signal(id);
        long now = clock.nanoTime();
        s.add(sink, demand.find(id), now);
        return () -> s.remove(sink);
    }

    /**
     * Re-reads every revision's demand: pushes changes (the grace ending) and heartbeats. Ticker
     * thread. A revision whose demand cannot be read now ({@link DemandUnavailable}) keeps its
     * answer until the next tick.
     */
    public void tick() {
        signals.forEach((id, s) -> {
            if (s.relayingToNoOne()) {
                // The owner decides and isActive asks it afresh: reading it here would only
                // cost a request to the owner per tick. Read again once a stream opens.
                return;
            }
            long now = clock.nanoTime();
            RevisionDemand d;
            try {
                d = demand.find(id);
            } catch (DemandUnavailable e) {
                return;
            }
            if (d == null && !s.hasSinks()) {
                signals.remove(id, s);
                return;
            }
            s.evaluate(d, now, true);
        });
    }

    private Signal signal(RevisionId id) {
        Signal s = signals.get(id);
        return s != null ? s : signals.computeIfAbsent(id, k -> new Signal());
    }

    /** One revision's answer and its subscribers; see the class notes for the ordering. */
    private final class Signal {
        private volatile boolean active;
        private volatile boolean poked;
        // Guarded by this.
        private final List<Sink> sinks = new ArrayList<>();
        private boolean demandSeen;
        private long lastDemandAt;
        private long lastAdmitted = -1;
        private long lastSentAt = clock.nanoTime();
        private boolean relaying;

        /**
         * Request thread: a request waits at zero pods. On the edge to active, {@code onEdge} runs
         * before this replica's own streams are sent {@code true}: the other replicas' way to
         * their streams is the longer one (a notice over the network), so it starts first.
         */
        void poke(Runnable onEdge) {
            poked = true;
            if (active) {
                return;
            }
            synchronized (this) {
                if (active) {
                    return;
                }
                poked = false;
                demandSeen = true;
                lastDemandAt = clock.nanoTime();
                active = true;
                onEdge.run();
                sendAll(true, lastDemandAt);
            }
        }

        synchronized boolean hasSinks() {
            return !sinks.isEmpty();
        }

        synchronized boolean relayingToNoOne() {
            return relaying && sinks.isEmpty();
        }

        synchronized void add(Sink sink, RevisionDemand d, long now) {
            boolean answer = decide(d, now);
            try {
                sink.send(answer);
            } catch (RuntimeException gone) {
                return;
            }
            sinks.add(sink);
        }

        synchronized void remove(Sink sink) {
            sinks.remove(sink);
        }

        /** Decides the answer now; pushes it if it changed, or if {@code heartbeat} and one is due. */
        synchronized boolean evaluate(RevisionDemand d, long now, boolean heartbeat) {
            boolean was = active;
            boolean answer = decide(d, now);
            if (answer != was || (heartbeat && now - lastSentAt >= heartbeatNanos)) {
                sendAll(answer, now);
            }
            return answer;
        }

        /** Under the monitor: updates the demand seen and {@link #active}. */
        private boolean decide(RevisionDemand d, long now) {
            relaying = d != null && d.relayed() != null;
            if (relaying) {
                return relay(d.relayed(), now);
            }
            // Demand now: requests queued or in flight, requests admitted since the last reading
            // (they came and went in between), or a request queued at zero pods since then.
            boolean demandNow = false;
            if (d != null) {
                long admitted = d.demand().admitted();
                if (d.demand().total() > 0 || (lastAdmitted >= 0 && admitted != lastAdmitted)) {
                    demandNow = true;
                }
                lastAdmitted = admitted;
            }
            if (poked) {
                poked = false;
                demandNow = true;
            }
            if (demandNow) {
                demandSeen = true;
                lastDemandAt = now;
            }
            boolean answer = d != null && (demandNow
                    || (demandSeen && now - lastDemandAt < d.scaleToZeroGrace().toNanos()));
            if (!answer && active) {
                active = false;
                if (poked) {
                    // A request queued at zero pods between the reading and now (class notes).
                    poked = false;
                    lastDemandAt = now;
                    answer = true;
                }
            }
            active = answer;
            return answer;
        }

        /**
         * Under the monitor: the owner's answer, read from {@code now} on; a poke since then (the
         * owner telling this replica it went active) outranks an older {@code false}.
         */
        private boolean relay(boolean owners, long now) {
            lastAdmitted = -1; // a local reading after ownership moves here starts afresh
            boolean answer = owners || poked || (demandSeen && lastDemandAt - now >= 0);
            poked = false;
            if (!answer && active) {
                active = false;
                if (poked) {
                    poked = false;
                    lastDemandAt = now;
                    answer = true;
                }
            }
            active = answer;
            return answer;
        }

        private void sendAll(boolean answer, long now) {
            lastSentAt = now;
            for (int i = sinks.size() - 1; i >= 0; i--) {
                try {
                    sinks.get(i).send(answer);
                } catch (RuntimeException gone) {
                    sinks.remove(i);
                }
            }
        }
    }
}
