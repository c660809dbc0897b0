package dev.sluice.core.control;

import static dev.sluice.core.control.ControlTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import dev.sluice.core.RevisionId;
import dev.sluice.core.balance.PolicyKind;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.pod.PodTracker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/**
 * Joining at the producer changes nothing but the work: the same reports (several pods, shared
 * addresses and IP reuse, one id at two addresses, every state, discovery's word among the
 * pods'), removals, discovery snapshots and queries, posted to a mailbox whose producers join
 * a pod's report to its pending one, leave the same table, capacity, checks, pods' own reports
 * and retired ids as the same operations applied one by one. The posting goes in three phases:
 * one by one (so reports have verdicts), a burst while the writer is held (runs build up), and
 * a burst against the running writer, waiting now and then (it takes reports in the middle of
 * their runs).
 */
class JoiningPropertiesTest {

    private static final RevisionId REV = new RevisionId("default", "join");
    private static final RevisionSettings SETTINGS = new RevisionSettings(2, 10, 100, PolicyKind.FIRST_AVAILABLE,
            Duration.ofMinutes(10), Duration.ofSeconds(30), Duration.ofSeconds(20));
    private static final PodState[] STATES = {PodState.READY, PodState.NOT_READY, PodState.PENDING, PodState.DRAINING};
    private static final String[] IDS = {"a", "b", "c"};
    /** A check that never answers: pods claiming READY while unknown stay validating. */
    private static final ReadinessCheck NEVER = (r, p, a) -> new CompletableFuture<>();
    static final int CODES = 160;

    static String address(int i) {
        return "10.0.0." + (1 + i) + ":8080";
    }

    /**
     * Operation {@code code}, the {@code step}th of its run: below 144 a report (one of 3
     * addresses, 3 ids, discovery's word one in four; the state moves on along the run through
     * all four, or if {@code flap} the run flaps NOT_READY, READY, ...), then a removal of one of
     * the 3 addresses, a discovery snapshot naming a subset of them, or a query.
     */
    static CompletableFuture<Object> post(RevisionMailbox m, int code, int step, boolean flap) {
        if (code < 144) {
            EventSource source = (code / 9) % 4 == 0 ? EventSource.DISCOVERY : EventSource.POD;
            PodState state = flap && step > 0 ? (step % 2 == 1 ? PodState.NOT_READY : PodState.READY)
                    : STATES[(code / 36 + step) % 4];
            return m.report(new PodEvent(source, REV, IDS[(code / 3) % 3], address(code % 3), state));
        }
        if (code < 150) {
            String address = address(code % 3);
            return m.submit(Operation.REMOVE_POD, w -> w.removePod(address));
        }
        if (code < 158) {
            int k = code - 150;
            List<Endpoint> snapshot = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                if ((k & (1 << i)) != 0) {
                    snapshot.add(new Endpoint(IDS[(i + k) % 3], address(i),
                            (i + k) % 2 == 0 ? PodState.READY : PodState.NOT_READY));
                }
            }
            return m.query(Operation.RECALCULATE, w -> w.recalculate(snapshot));
        }
        return m.query(Operation.FLUSH, w -> null);
    }

    @Property(tries = 300)
    void joinedReportsLeaveTheSameTableAsOneByOne(
            @ForAll @Size(min = 1, max = 60) List<@From("mix") Integer> codes,
            @ForAll @Size(min = 60, max = 60) List<@IntRange(min = 1, max = 12) Integer> runs,
            @ForAll @Size(min = 60, max = 60) List<Boolean> flaps,
            @ForAll @Size(min = 60, max = 60) List<Boolean> waits) throws Exception {
        int joins = assertJoinedLeavesTheSameTableAsOneByOne(codes, runs, flaps, waits);
        Statistics.label("joined").collect(joins > 0);
    }

    /** Three in four a pod's own report at its own address (id i at address i), else any operation. */
    @Provide
    Arbitrary<Integer> mix() {
        Arbitrary<Integer> own = Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(1, 3), Arbitraries.integers().between(0, 2))
                .as((pod, source, state) -> pod * 4 + 9 * source + 36 * state);
        return Arbitraries.frequencyOf(Tuple.of(3, own), Tuple.of(1, Arbitraries.integers().between(0, CODES - 1)));
    }

    /** The property's three phases over a longer mix, with enough joins to matter. */
    @Example
    void aLongMixJoinsAndLeavesTheSameTableAsOneByOne() throws Exception {
        Random random = new Random(23);
        int joins = 0;
        for (int round = 0; round < 20; round++) {
            List<Integer> codes = new ArrayList<>();
            List<Integer> runs = new ArrayList<>();
            List<Boolean> flaps = new ArrayList<>();
            List<Boolean> waits = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                // Mostly a pod's own flapping at its own address (id i at address i, starting
                // NOT_READY or PENDING), so that runs form; the rest as in the property.
                int pod = random.nextInt(3);
                codes.add(random.nextInt(12) == 0 ? random.nextInt(CODES)
                        : pod * 4 + 9 * (1 + random.nextInt(3)) + 36 * (1 + random.nextInt(2)));
                runs.add(1 + random.nextInt(12));
                flaps.add(random.nextInt(4) != 0);
                waits.add(random.nextInt(8) == 0);
            }
            joins += assertJoinedLeavesTheSameTableAsOneByOne(codes, runs, flaps, waits);
        }
        assertThat(joins).as("reports that joined a pending one").isGreaterThan(100);
    }

    /** Returns how many reports joined a pending one. */
    private static int assertJoinedLeavesTheSameTableAsOneByOne(List<Integer> codes, List<Integer> runs,
            List<Boolean> flaps, List<Boolean> waits) throws Exception {
        // Each code's run in order; three codes' runs at a time interleaved (a removal, a
        // snapshot or another pod's report may come in the middle of a run).
        List<int[]> ops = new ArrayList<>();
        Random interleave = new Random(codes.hashCode() * 31L + runs.hashCode());
        for (int g = 0; g < codes.size(); g += 3) {
            List<List<int[]>> group = new ArrayList<>();
            for (int i = g; i < Math.min(g + 3, codes.size()); i++) {
                int code = codes.get(i);
                int run = code < 144 ? runs.get(i) : 1;
                List<int[]> steps = new ArrayList<>();
                for (int j = 0; j < run; j++) {
                    steps.add(new int[] {code, j, flaps.get(i) ? 1 : 0});
                }
                group.add(steps);
            }
            while (!group.isEmpty()) {
                int k = interleave.nextInt(group.size());
                ops.add(group.get(k).remove(0));
                if (group.get(k).isEmpty()) {
                    group.remove(k);
                }
            }
        }
        WriterPool pool = new WriterPool(1);
        ManualClock clock = new ManualClock(1_000_000_000L);
        try {
            RevisionMailbox oneByOne = new RevisionMailbox(REV, SETTINGS, pool, new WriterFailures(), clock, NEVER,
                    ControlMetrics.NONE);
            RevisionMailbox joined = new RevisionMailbox(REV, SETTINGS, pool, new WriterFailures(), clock, NEVER,
                    ControlMetrics.NONE);
            for (int[] op : ops) {
                await(post(oneByOne, op[0], op[1], op[2] == 1));
            }

            int held = ops.size() / 3;
            int free = 2 * ops.size() / 3;
            for (int[] op : ops.subList(0, held)) {
                await(post(joined, op[0], op[1], op[2] == 1));
            }
            // Held by another revision's query on the same worker: nothing in joined's inbox
            // (a query there would be a barrier, and no report before it could be joined after).
            RevisionMailbox gate = new RevisionMailbox(new RevisionId("default", "gate"), SETTINGS, pool,
                    new WriterFailures(), clock, NEVER, ControlMetrics.NONE);
            HeldWriter writer = HeldWriter.hold(gate);
            List<CompletableFuture<Object>> posted = new ArrayList<>();
            for (int[] op : ops.subList(held, free)) {
                posted.add(post(joined, op[0], op[1], op[2] == 1));
            }
            writer.release();
            for (int i = free; i < ops.size(); i++) {
                CompletableFuture<Object> f = post(joined, ops.get(i)[0], ops.get(i)[1], ops.get(i)[2] == 1);
                posted.add(f);
                if (waits.get(i % waits.size())) {
                    await(f);
                }
            }
            for (CompletableFuture<Object> f : posted) {
                await(f);
            }
            assertThat(view(joined)).isEqualTo(view(oneByOne));
            Set<CompletableFuture<Object>> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
            distinct.addAll(posted);
            return posted.size() - distinct.size();
        } finally {
            pool.shutdown();
        }
    }

    /** Each address's pod id and state, the capacity, the checks under way, the pods' own reports, the retired ids. */
    static String view(RevisionMailbox m) {
        return (String) await(m.query(Operation.FLUSH, w -> {
            Map<String, String> pods = new TreeMap<>();
            for (PodTracker t : w.throttler.table().trackers()) {
                pods.merge(t.address(), t.podId() + ":" + t.state(), (x, y) -> x + "," + y);
            }
            w.publishChecks();
            return pods + " capacity=" + w.throttler.capacity() + " checks=" + w.checks() + " own="
                    + w.describeAuthority();
        }));
    }
}
