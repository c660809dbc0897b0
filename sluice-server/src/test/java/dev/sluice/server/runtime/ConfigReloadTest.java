package dev.sluice.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A watched sluice.yaml: valid changes apply live, invalid ones are refused and change nothing. */
class ConfigReloadTest {

    private static final RevisionId A = new RevisionId("default", "a");
    private static final RevisionId B = new RevisionId("default", "b");

    @TempDir
    Path dir;
    private TestPod p1;
    private TestPod p2;
    private SluiceServer sluice;
    private ConfigWatcher watcher;

    @AfterEach
    void tearDown() {
        if (watcher != null) {
            watcher.close();
        }
        if (sluice != null) {
            sluice.close();
        }
        p1.close();
        p2.close();
    }

    private String yaml(String revisions) {
        return "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\nrevisions:\n" + revisions;
    }

    private String revision(String name, int cc, TestPod... pods) {
        StringBuilder list = new StringBuilder();
        for (TestPod p : pods) {
            list.append(list.length() == 0 ? "" : ", ").append("'").append(p.address()).append("'");
        }
        return "  - {name: " + name + ", containerConcurrency: " + cc + ", readinessPath: /healthz, pods: [" + list
                + "]}\n";
    }

    private static boolean ready(RevisionThrottler th, TestPod p) {
        return th.table().find(p.address()) != null && th.table().find(p.address()).state() == PodState.READY;
    }

    @Test
    void validChangesApplyLiveAndInvalidOnesAreRefused() throws Exception {
        p1 = new TestPod("p1", 0);
        p2 = new TestPod("p2", 0);
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, yaml(revision("a", 1, p1)));
        sluice = SluiceServer.start(ConfigLoader.load(file), null, 1);
        watcher = new ConfigWatcher(file, sluice::apply);
        RevisionThrottler a = sluice.throttlers().get(A);
        await().atMost(Duration.ofSeconds(10)).until(() -> ready(a, p1));

        // A second pod, and cc 1 → 3: through the control path's recalculation.
        Files.writeString(file, yaml(revision("a", 3, p1, p2)));
        await().atMost(Duration.ofSeconds(10)).until(() -> ready(a, p2) && a.capacity() == 6);
        assertThat(a.table().find(p1.address()).capacity()).isEqualTo(3);

        // An invalid change is refused with the field and the reason; nothing changes.
        Files.writeString(file, yaml("  - {name: a, containerConcurrency: -4}\n"));
        await().atMost(Duration.ofSeconds(10)).until(() -> watcher.lastError() != null);
        assertThat(watcher.lastError()).contains("revisions[0].containerConcurrency").contains("between 0 and");
        assertThat(a.capacity()).isEqualTo(6);
        assertThat(a.table().size()).isEqualTo(2);
        assertThat(sluice.throttlers()).containsKey(A);

        // Revision a goes, b comes: a's pods are released, b serves.
        Files.writeString(file, yaml(revision("b", 2, p2)));
        await().atMost(Duration.ofSeconds(10)).until(() -> !sluice.throttlers().containsKey(A)
                && sluice.throttlers().containsKey(B) && ready(sluice.throttlers().get(B), p2));
        assertThat(watcher.lastError()).isNull();
        await().atMost(Duration.ofSeconds(10)).until(() -> a.isClosed() && a.table().size() == 0);
    }

    @Test
    void changesThatNeedARestartAreReportedAndKept() throws Exception {
        p1 = new TestPod("p1", 0);
        p2 = new TestPod("p2", 0);
        sluice = SluiceServer.start(ConfigLoader.parse("t", yaml("  - {name: a, queueDepth: 5}\n")), null, 1);
        assertThat(sluice.apply(ConfigLoader.parse("t", yaml("  - {name: a, queueDepth: 9, hosts: [a.test]}\n"))))
                .containsExactly("default/a: policy, queueDepth, maxScale, staleThreshold and drainTimeout");
        assertThat(sluice.config().revisions().get(0).queueDepth()).isEqualTo(5);
        assertThat(sluice.config().revisions().get(0).hosts()).containsExactly("a.test");
    }
}
