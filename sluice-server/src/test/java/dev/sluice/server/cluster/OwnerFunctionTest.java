package dev.sluice.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** Rendezvous ownership: the same owner everywhere, and a membership change moves only what it must. */
class OwnerFunctionTest {

    private static final int REVISIONS = 600;

    private static List<String> revisions(long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < REVISIONS; i++) {
            out.add("ns-" + r.nextInt(50) + "/rev-" + Long.toHexString(r.nextLong()));
        }
        return out;
    }

    private static List<Peer> replicas(int n, long seed) {
        Random r = new Random(seed);
        List<Peer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String id = "sluice-" + Long.toString(r.nextLong() & Long.MAX_VALUE, 36);
            out.add(new Peer(id, "10.0.0." + i + ":8080", "10.0.0." + i + ":8081"));
        }
        return out;
    }

    @Property(tries = 60)
    void everyReplicaComputesTheSameOwnerWhateverOrderItListsTheSetIn(@ForAll @IntRange(min = 1, max = 12) int n,
            @ForAll long seed) {
        List<Peer> view = replicas(n, seed);
        List<Peer> shuffled = new ArrayList<>(view);
        Collections.shuffle(shuffled, new Random(seed + 1));
        for (String rev : revisions(seed)) {
            Peer a = OwnerFunction.owner(rev, view);
            assertThat(OwnerFunction.owner(rev, shuffled)).isEqualTo(a);
            assertThat(view).contains(a);
        }
    }

    @Property(tries = 60)
    void removingAReplicaMovesOnlyTheRevisionsItOwned(@ForAll @IntRange(min = 2, max = 12) int n,
            @ForAll long seed, @ForAll @IntRange(min = 0, max = 11) int which) {
        List<Peer> view = replicas(n, seed);
        Peer gone = view.get(which % n);
        List<Peer> after = new ArrayList<>(view);
        after.remove(gone);
        for (String rev : revisions(seed)) {
            Peer before = OwnerFunction.owner(rev, view);
            Peer now = OwnerFunction.owner(rev, after);
            if (!before.equals(gone)) {
                assertThat(now).as(rev).isEqualTo(before);
            } else {
                assertThat(now).isNotEqualTo(gone);
            }
        }
    }

    @Property(tries = 40)
    void addingAReplicaMovesAboutOneNthToItAndNothingElsewhere(@ForAll @IntRange(min = 1, max = 10) int n,
            @ForAll long seed) {
        List<Peer> view = replicas(n + 1, seed);
        Peer added = view.get(n);
        List<Peer> before = view.subList(0, n);
        int moved = 0;
        for (String rev : revisions(seed)) {
            Peer was = OwnerFunction.owner(rev, before);
            Peer now = OwnerFunction.owner(rev, view);
            if (!now.equals(was)) {
                assertThat(now).as("a revision moves only to the replica that joined").isEqualTo(added);
                moved++;
            }
        }
        double expected = REVISIONS / (double) (n + 1);
        // Binomial(600, 1/(n+1)): 6 standard deviations either side never fails by chance.
        double sd = Math.sqrt(REVISIONS * (1.0 / (n + 1)) * (1 - 1.0 / (n + 1)));
        assertThat((double) moved).isBetween(expected - 6 * sd - 1, expected + 6 * sd + 1);
    }

    @Property(tries = 20)
    void ownershipIsSpreadEvenly(@ForAll long seed) {
        List<Peer> view = replicas(3, seed);
        Map<Peer, Integer> counts = new HashMap<>();
        for (String rev : revisions(seed)) {
            counts.merge(OwnerFunction.owner(rev, view), 1, Integer::sum);
        }
        for (Peer p : view) {
            assertThat(counts.getOrDefault(p, 0)).as("%s of %d", p, REVISIONS).isBetween(130, 270);
        }
    }

    @Example
    void noLiveReplicaMeansNoOwner() {
        assertThat(OwnerFunction.owner("default/a", List.of())).isNull();
    }

    @Example
    void theWeightIsAFixedFunctionOfTheBytesNotAJvmHash() {
        // Pinned: a change to the hash would move every revision at once during a rolling upgrade,
        // when old and new replicas must agree.
        assertThat(OwnerFunction.weight("default/llm-00001", "sluice-0")).isEqualTo(PINNED);
    }

    private static final long PINNED = 7993558474001703190L;
}
