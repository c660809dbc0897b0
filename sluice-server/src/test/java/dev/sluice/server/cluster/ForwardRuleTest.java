package dev.sluice.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.cluster.ForwardRule.Decision;
import dev.sluice.server.proxy.RouteOwner;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The forwarding rule, alone and played out over three replicas whose views disagree the way
 * they do while an owner drains or rejoins: every forward ends on one replica, and a draining
 * replica never serves one.
 */
class ForwardRuleTest {

    private static RouteOwner.Target owner(String id) {
        return new RouteOwner.Target(id, id + ":8080");
    }

    @Test
    void theOwnersOwnForwardMakesThisReplicaItsHeir() {
        assertThat(ForwardRule.decide(owner("a"), 1, "a", false)).isEqualTo(Decision.HEIR);
        assertThat(ForwardRule.decide(owner("a"), 2, "a", false)).isEqualTo(Decision.HEIR);
    }

    @Test
    void aDrainingReplicaIsNobodysHeirAndServesOnlyAtTheHopLimit() {
        assertThat(ForwardRule.decide(owner("b"), 1, "b", true)).isEqualTo(Decision.FORWARD);
        assertThat(ForwardRule.decide(owner("b"), 2, "c", true)).isEqualTo(Decision.FORWARD);
        assertThat(ForwardRule.decide(owner("b"), ForwardRule.MAX_HOPS, "b", true)).isEqualTo(Decision.SERVE);
    }

    @Test
    void anotherReplicasForwardGoesOnToTheOwnerUntilTheHopLimit() {
        assertThat(ForwardRule.decide(owner("a"), 1, "c", false)).isEqualTo(Decision.FORWARD);
        assertThat(ForwardRule.decide(owner("a"), 2, "c", false)).isEqualTo(Decision.FORWARD);
        assertThat(ForwardRule.decide(owner("a"), ForwardRule.MAX_HOPS, "c", false)).isEqualTo(Decision.SERVE);
        assertThat(ForwardRule.decide(owner("a"), 1, null, false)).as("an unreadable sender").isEqualTo(
                Decision.FORWARD);
    }

    /** Each replica's view of the owner (its own id: it owns), and whether it drains. */
    private record Replica(String owner, boolean leaving) {
    }

    /** Follows one request from {@code first} and returns the replica that serves it, and how. */
    private static String serve(Map<String, Replica> replicas, String first) {
        String at = first;
        int hops = 0;
        String sender = null;
        while (true) {
            Replica r = replicas.get(at);
            if (r.owner().equals(at) && !r.leaving()) {
                return at + " owns";
            }
            if (hops > 0) {
                Decision d = ForwardRule.decide(owner(r.owner()), hops, sender, r.leaving());
                if (d != Decision.FORWARD) {
                    return at + " " + d;
                }
            }
            hops++;
            sender = at;
            at = r.owner();
        }
    }

    @Test
    void whileTheOwnerDrainsOnlyItsHeirServesWhateverTheOthersHaveNoticed() {
        // a drains and names b; b and c each have or have not noticed yet.
        for (boolean bNoticed : new boolean[] {false, true}) {
            for (boolean cNoticed : new boolean[] {false, true}) {
                Map<String, Replica> views = new HashMap<>();
                views.put("a", new Replica("b", true));
                views.put("b", new Replica(bNoticed ? "b" : "a", false));
                views.put("c", new Replica(cNoticed ? "b" : "a", false));
                for (String first : List.of("a", "b", "c")) {
                    assertThat(serve(views, first)).as("b noticed %s, c noticed %s, sent to %s", bNoticed, cNoticed,
                            first).startsWith("b ");
                }
            }
        }
    }

    @Test
    void whileTheOwnerRejoinsOnlyOneReplicaServesAtATime() {
        // a rejoins and owns; b (the owner meanwhile) and c may not have seen it yet.
        for (boolean bNoticed : new boolean[] {false, true}) {
            for (boolean cNoticed : new boolean[] {false, true}) {
                Map<String, Replica> views = new HashMap<>();
                views.put("a", new Replica("a", false));
                views.put("b", new Replica(bNoticed ? "a" : "b", false));
                views.put("c", new Replica(cNoticed ? "a" : "b", false));
                // Until b notices, b serves what reaches it and a, the start-up hold on every
                // pod taken until b reports, only queues what c sends it; once b has noticed,
                // b admits nothing of it: every request ends on a.
                assertThat(serve(views, "b")).isEqualTo(bNoticed ? "a owns" : "b owns");
                assertThat(serve(views, "c")).isEqualTo(bNoticed || cNoticed ? "a owns" : "b owns");
            }
        }
    }

    @Test
    void twoDrainingReplicasStopBouncingAtTheHopLimit() {
        Map<String, Replica> views = new HashMap<>();
        views.put("a", new Replica("b", true));
        views.put("b", new Replica("a", true));
        views.put("c", new Replica("a", false));
        assertThat(serve(views, "c")).as("a forwards to b, b back to a, which is at the limit")
                .isEqualTo("a SERVE");
    }
}
