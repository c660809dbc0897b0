package dev.sluice.core.throttle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTable;
import dev.sluice.core.pod.PodTracker;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Random arrivals (3 classes × 4 tenants, one of them the shared tenant), releases, cancels
 * and expiries against one pod with cc = 1, checked after every step against a reference
 * scheduler written the obvious way: array lists, index arithmetic, linear searches. Every
 * request's outcome (served, and in which order; refused, and why; still waiting) and every
 * count must agree.
 */
class PriorityQueueModelTest {

    private static final long FAR = Long.MAX_VALUE / 2;
    private static final int CLASSES = 3;
    private static final String[] TENANTS = {"a", "b", "c", null};

    /** A request, as both the throttler's listener and the model's record. */
    private static final class Req implements LeaseListener {
        final int id;
        final int cls;
        final String tenant;
        final long deadline;
        Pending pending;
        PodTracker pod;
        Rejection rejection;
        /** What the model says. */
        boolean modelServed;
        Rejection modelRejection;

        Req(int id, int cls, String tenant, long deadline) {
            this.id = id;
            this.cls = cls;
            this.tenant = tenant;
            this.deadline = deadline;
        }

        @Override
        public void onLease(PodTracker p) {
            assertThat(pod == null && rejection == null).as("one outcome for #" + id).isTrue();
            pod = p;
        }

        @Override
        public void onReject(Rejection reason) {
            assertThat(pod == null && rejection == null).as("one outcome for #" + id).isTrue();
            rejection = reason;
        }
    }

    /** The reference: per class a ring of tenant FIFOs as a list, a cursor index and the cursor's credit. */
    private static final class Reference {
        final List<List<Deque<Req>>> rings = new ArrayList<>();
        final List<Map<String, Deque<Req>>> lanes = new ArrayList<>();
        final int[] cursor = new int[CLASSES];
        final int[] credit = new int[CLASSES];
        final List<List<Req>> arrivals = new ArrayList<>();
        final Map<String, Integer> perTenant = new HashMap<>();
        final QueuePolicy policy;
        int total;

        Reference(QueuePolicy policy) {
            this.policy = policy;
            for (int c = 0; c < CLASSES; c++) {
                rings.add(new ArrayList<>());
                lanes.add(new HashMap<>());
                arrivals.add(new ArrayList<>());
            }
        }

        int weight(Deque<Req> lane) {
            return policy.weightOf(lane.peekFirst().tenant);
        }

        int ofTenant(String t) {
            return perTenant.getOrDefault(String.valueOf(t), 0);
        }

        void add(Req r) {
            Deque<Req> lane = lanes.get(r.cls).computeIfAbsent(String.valueOf(r.tenant), k -> new ArrayDeque<>());
            lane.addLast(r);
            List<Deque<Req>> ring = rings.get(r.cls);
            if (lane.size() == 1) {
                if (ring.isEmpty()) {
                    ring.add(lane);
                    cursor[r.cls] = 0;
                    credit[r.cls] = weight(lane);
                } else {
                    ring.add(cursor[r.cls], lane);
                    cursor[r.cls]++;
                }
            }
            arrivals.get(r.cls).add(r);
            perTenant.merge(String.valueOf(r.tenant), 1, Integer::sum);
            total++;
        }

        Req head() {
            for (int c = 0; c < CLASSES; c++) {
                if (!rings.get(c).isEmpty()) {
                    return rings.get(c).get(cursor[c]).peekFirst();
                }
            }
            return null;
        }

        /** Takes r out; served: it spends a unit of its lane's turn. */
        void leave(Req r, boolean served) {
            int c = r.cls;
            Deque<Req> lane = lanes.get(c).get(String.valueOf(r.tenant));
            lane.remove(r);
            arrivals.get(c).remove(r);
            perTenant.merge(String.valueOf(r.tenant), -1, Integer::sum);
            total--;
            List<Deque<Req>> ring = rings.get(c);
            int idx = ring.indexOf(lane);
            if (lane.isEmpty()) {
                lanes.get(c).remove(String.valueOf(r.tenant));
                ring.remove(idx);
                if (idx < cursor[c]) {
                    cursor[c]--;
                } else if (idx == cursor[c] && !ring.isEmpty()) {
                    cursor[c] %= ring.size();
                    credit[c] = weight(ring.get(cursor[c]));
                }
            } else if (served && --credit[c] <= 0) {
                cursor[c] = (cursor[c] + 1) % ring.size();
                credit[c] = weight(ring.get(cursor[c]));
            }
        }

        Req newestBelow(int cls) {
            for (int c = CLASSES - 1; c > cls; c--) {
                List<Req> a = arrivals.get(c);
                if (!a.isEmpty()) {
                    return a.get(a.size() - 1);
                }
            }
            return null;
        }
    }

    @Property(tries = 400)
    void throttlerMatchesTheReferenceScheduler(
            @ForAll @Size(max = 300) List<@IntRange(min = 0, max = 99_999) Integer> steps,
            @ForAll @IntRange(min = 1, max = 12) int depth,
            @ForAll @IntRange(min = 1, max = 9) int cap,
            @ForAll boolean preemption,
            @ForAll @IntRange(min = 1, max = 3) int weightA,
            @ForAll @IntRange(min = 1, max = 3) int weightB,
            @ForAll @IntRange(min = 1, max = 2) int defaultWeight) {
        ManualClock clock = new ManualClock();
        PodTable table = new PodTable(2);
        table.add("pod", "10.0.0.1:80", PodState.READY, 1, 0);
        RevisionThrottler th = new RevisionThrottler(table, PolicyKind.FIRST_AVAILABLE.create(), 1, depth, clock);
        th.updateCapacity();
        QueuePolicy policy = new QueuePolicy(cap == 9 ? Integer.MAX_VALUE : cap, preemption,
                Map.of("a", weightA, "b", weightB), defaultWeight);
        th.setQueuePolicy(policy);
        Reference m = new Reference(policy);
        List<Req> all = new ArrayList<>();
        List<Req> waiting = new ArrayList<>();
        Req held = null;
        for (int code : steps) {
            int op = code % 4;
            int arg = code / 4;
            switch (op) {
                case 0 -> { // a request arrives
                    long deadline = (arg / 12) % 3 == 0 ? clock.nanoTime() + 5 : FAR;
                    Req r = new Req(all.size(), arg % CLASSES, TENANTS[(arg / CLASSES) % TENANTS.length], deadline);
                    all.add(r);
                    r.pending = th.acquire(r.deadline, r, r.cls, r.tenant);
                    if (held == null && m.total == 0) {
                        r.modelServed = true;
                        held = r;
                    } else if (m.total >= depth && !preemption) {
                        r.modelRejection = Rejection.QUEUE_FULL;
                    } else if (m.ofTenant(r.tenant) >= policy.tenantCap()) {
                        r.modelRejection = Rejection.TENANT_QUEUE_FULL;
                    } else if (m.total >= depth) {
                        Req victim = m.newestBelow(r.cls);
                        if (victim == null) {
                            r.modelRejection = Rejection.QUEUE_FULL;
                        } else {
                            m.leave(victim, false);
                            waiting.remove(victim);
                            victim.modelRejection = Rejection.PREEMPTED;
                            m.add(r);
                            waiting.add(r);
                        }
                    } else {
                        m.add(r);
                        waiting.add(r);
                    }
                }
                case 1 -> { // the running request ends: the pod goes to the next waiter in time
                    if (held == null) {
                        break;
                    }
                    th.release(held.pod);
                    held = null;
                    for (Req next = m.head(); next != null; next = m.head()) {
                        waiting.remove(next);
                        if (next.deadline - clock.nanoTime() <= 0) {
                            m.leave(next, false);
                            next.modelRejection = Rejection.QUEUE_TIMEOUT;
                            continue;
                        }
                        m.leave(next, true);
                        next.modelServed = true;
                        held = next;
                        break;
                    }
                }
                case 2 -> { // a waiting client goes away
                    if (waiting.isEmpty()) {
                        break;
                    }
                    Req r = waiting.remove(arg % waiting.size());
                    assertThat(r.pending.cancel()).as("cancel #" + r.id).isTrue();
                    m.leave(r, false);
                    r.modelRejection = null;
                }
                default -> { // time passes; the sweep rejects the overdue
                    clock.advance(Duration.ofNanos(1 + arg % 4));
                    int expired = 0;
                    for (Req r : new ArrayList<>(waiting)) {
                        if (r.deadline - clock.nanoTime() <= 0) {
                            waiting.remove(r);
                            m.leave(r, false);
                            r.modelRejection = Rejection.QUEUE_TIMEOUT;
                            expired++;
                        }
                    }
                    assertThat(th.expireOverdue()).isEqualTo(expired);
                }
            }
            for (Req r : all) {
                assertThat(r.pod != null).as("#%d served", r.id).isEqualTo(r.modelServed);
                assertThat(r.rejection).as("#%d refused", r.id).isEqualTo(r.modelRejection);
            }
            assertThat(th.queued()).isEqualTo(m.total);
            assertThat(th.active()).isEqualTo(held == null ? 0 : 1);
            for (int c = 0; c < CLASSES; c++) {
                assertThat(th.queuedIn(c)).isEqualTo(m.arrivals.get(c).size());
            }
        }
    }
}
