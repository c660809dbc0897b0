package dev.sluice.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.ManualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Static peers' liveness from their checks, on a manual clock; and the membership built on it. */
class PeerHealthTest {

    private final ManualClock clock = new ManualClock();
    private final Peer b = new Peer("b", "127.0.0.1:8090", "127.0.0.1:8091");
    private final Peer c = new Peer("c", "127.0.0.1:8092", "127.0.0.1:8093");
    private final PeerHealth health = new PeerHealth(List.of(b, c), 2, Duration.ofMillis(1400), clock);

    @Test
    void aPeerIsLiveFromItsFirstPassedCheckUntilTwoFailInARow() {
        assertThat(health.live()).isEmpty();
        health.checked("b", true, clock.nanoTime());
        assertThat(health.live()).containsExactly(b);
        clock.advance(Duration.ofMillis(500));
        health.checked("b", false, clock.nanoTime());
        assertThat(health.isLive("b")).as("one failure is not enough").isTrue();
        clock.advance(Duration.ofMillis(500));
        health.checked("b", false, clock.nanoTime());
        assertThat(health.isLive("b")).isFalse();
        clock.advance(Duration.ofMillis(500));
        health.checked("b", true, clock.nanoTime());
        assertThat(health.isLive("b")).as("one pass brings it back").isTrue();
    }

    @Test
    void aPeerWhoseChecksGoUnansweredLeavesWhenItsLastPassIsTooOld() {
        health.checked("c", true, clock.nanoTime());
        clock.advance(Duration.ofMillis(1400));
        assertThat(health.isLive("c")).isTrue();
        clock.advance(Duration.ofMillis(1));
        assertThat(health.isLive("c")).as("silence counts against it").isFalse();
        assertThat(health.live()).isEmpty();
    }

    @Test
    void aResultOlderThanTheNewestRecordedIsDropped() {
        long early = clock.nanoTime();
        clock.advance(Duration.ofMillis(100));
        health.checked("b", false, clock.nanoTime());
        health.checked("b", false, clock.nanoTime());
        health.checked("b", true, early); // sent before the failures, answered after them
        assertThat(health.isLive("b")).isFalse();
    }

    @Test
    void unknownPeersAreIgnored() {
        health.checked("zz", true, clock.nanoTime());
        assertThat(health.live()).isEmpty();
    }

    @Test
    void theMembershipPublishesEachNewViewOnceSortedAndDropsItselfWhenItLeaves() {
        Peer a = new Peer("a", "127.0.0.1:8080", "127.0.0.1:8081");
        List<List<Peer>> views = new ArrayList<>();
        Membership m = new Membership(a, views::add);
        m.update(Set.of(c, a, b));
        m.update(Set.of(b, c, a)); // the same set: nothing new
        assertThat(views).containsExactly(List.of(a, b, c));
        m.leave();
        assertThat(m.live()).containsExactly(b, c);
        m.update(Set.of(a, b));
        assertThat(m.live()).as("a source that still lists a leaving replica does not bring it back")
                .containsExactly(b);
        assertThat(views).hasSize(3);
    }
}
