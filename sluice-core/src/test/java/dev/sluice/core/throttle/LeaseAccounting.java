package dev.sluice.core.throttle;

import dev.sluice.core.pod.PodTracker;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * For concurrency tests: hands out listeners that count every outcome, check that no pod ever
 * holds more than {@code cc} leases, and release each lease on {@code releasers} (never on the
 * thread that granted it, as the server hops to an event loop).
 */
public final class LeaseAccounting {

    private final RevisionThrottler throttler;
    private final int cc;
    private final Executor releasers;
    private final Map<PodTracker, AtomicInteger> holding = new ConcurrentHashMap<>();
    private final Map<Rejection, AtomicInteger> rejections = new ConcurrentHashMap<>();
    private final AtomicReference<String> violation = new AtomicReference<>();
    private final AtomicInteger leased = new AtomicInteger();
    private final AtomicInteger answered = new AtomicInteger();

    public LeaseAccounting(RevisionThrottler throttler, int cc, Executor releasers) {
        this.throttler = throttler;
        this.cc = cc;
        this.releasers = releasers;
    }

    /** A fresh listener for one request. */
    public LeaseListener request() {
        return new LeaseListener() {
            @Override
            public void onLease(PodTracker pod) {
                int now = holding.computeIfAbsent(pod, p -> new AtomicInteger()).incrementAndGet();
                if (cc > 0 && now > cc) {
                    violation.compareAndSet(null, now + " requests on " + pod);
                }
                leased.incrementAndGet();
                answered.incrementAndGet();
                releasers.execute(() -> {
                    holding.get(pod).decrementAndGet();
                    throttler.release(pod);
                });
            }

            @Override
            public void onReject(Rejection reason) {
                rejections.computeIfAbsent(reason, r -> new AtomicInteger()).incrementAndGet();
                answered.incrementAndGet();
            }
        };
    }

    /** The first capacity violation seen, or null. */
    public String violation() {
        return violation.get();
    }

    public int leased() {
        return leased.get();
    }

    public int answered() {
        return answered.get();
    }

    public int rejected() {
        return rejections.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    public Map<Rejection, AtomicInteger> rejections() {
        return rejections;
    }

    /** Leases each pod holds now, by the listeners' count (all zero once everything is released). */
    public Map<PodTracker, AtomicInteger> holding() {
        return holding;
    }
}
