package dev.sluice.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.core.RevisionId;
import dev.sluice.core.pod.PodState;
import dev.sluice.core.throttle.RevisionThrottler;
import dev.sluice.server.TestPod;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.SluiceConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A watched sluice.yaml on the real file system: valid changes apply live, invalid ones are
 * refused and change nothing, and a ConfigMap updated the kubelet's way (a symlink swap) is seen.
 */
class ConfigReloadIT {

    private static final RevisionId A = new RevisionId("default", "a");
    private static final RevisionId B = new RevisionId("default", "b");

    @TempDir
    Path dir;
    private TestPod p1;
    private TestPod p2;

    @BeforeEach
    void pods() throws Exception {
        p1 = new TestPod("p1", 0);
        p2 = new TestPod("p2", 0);
    }
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
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, yaml(revision("a", 1, p1)));
        sluice = SluiceServer.builder(ConfigLoader.load(file)).ioThreads(1).start();
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
        sluice = SluiceServer.builder(ConfigLoader.parse("t", yaml("  - {name: a, queueDepth: 5}\n")))
                .ioThreads(1).start();
        assertThat(sluice.apply(ConfigLoader.parse("t", yaml("  - {name: a, queueDepth: 9, hosts: [a.test]}\n"))))
                .containsExactly("default/a: policy, queueDepth, maxScale, staleThreshold and drainTimeout");
        assertThat(sluice.config().revisions().get(0).queueDepth()).isEqualTo(5);
        assertThat(sluice.config().revisions().get(0).hosts()).containsExactly("a.test");
    }

    /** Writes {@code yaml} as a new timestamped directory of a ConfigMap volume, not yet live. */
    private static Path configMapVersion(Path volume, String stamp, String yaml) throws Exception {
        Path version = Files.createDirectory(volume.resolve("..2026_12_01_" + stamp));
        Files.writeString(version.resolve("sluice.yaml"), yaml);
        return version;
    }

    /** Makes a version live as kubelet's atomic writer does: a ..data_tmp symlink renamed over ..data. */
    private static void swapTo(Path volume, Path version) throws Exception {
        Path tmp = Files.createSymbolicLink(volume.resolve("..data_tmp"), version.getFileName());
        Files.move(tmp, volume.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aConfigMapUpdatedByASymlinkSwapIsAppliedOnlyWhenItsContentChanged() throws Exception {
        Path volume = Files.createDirectory(dir.resolve("config"));
        Path first = configMapVersion(volume, "10_00_00.123", yaml(revision("a", 1, p1)));
        Files.createSymbolicLink(volume.resolve("..data"), first.getFileName());
        Path file = Files.createSymbolicLink(volume.resolve("sluice.yaml"), Path.of("..data/sluice.yaml"));
        sluice = SluiceServer.builder(ConfigLoader.load(file)).ioThreads(1).start();
        List<SluiceConfig> applied = new CopyOnWriteArrayList<>();
        watcher = new ConfigWatcher(file, c -> {
            applied.add(c);
            sluice.apply(c);
        });

        // The same content in a new version: read, not applied.
        swapTo(volume, configMapVersion(volume, "10_05_00.456", yaml(revision("a", 1, p1))));
        await().atMost(Duration.ofSeconds(10)).until(() -> watcher.reads() >= 1);
        assertThat(applied).isEmpty();

        // A real change: revision b added, through the symlinks.
        int reads = watcher.reads();
        swapTo(volume, configMapVersion(volume, "10_10_00.789", yaml(revision("a", 1, p1) + revision("b", 2, p2))));
        await().atMost(Duration.ofSeconds(10)).until(() -> applied.size() == 1);
        assertThat(watcher.reads()).isGreaterThan(reads);
        assertThat(applied.get(0).revisions()).extracting(r -> r.id().name()).containsExactly("a", "b");
        await().atMost(Duration.ofSeconds(10)).until(() -> sluice.throttlers().containsKey(B)
                && ready(sluice.throttlers().get(B), p2));
        assertThat(watcher.lastError()).isNull();

        // Another file in the volume changes: the content is read again and nothing is applied.
        int readsBefore = watcher.reads();
        Files.writeString(volume.resolve("unrelated.txt"), "x");
        await().atMost(Duration.ofSeconds(10)).until(() -> watcher.reads() > readsBefore);
        assertThat(applied).hasSize(1);
    }

    @Test
    void anEmptyFileOnReloadIsRefusedAndTheRunningRevisionsStay() throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, yaml(revision("a", 1, p1)));
        sluice = SluiceServer.builder(ConfigLoader.load(file)).ioThreads(1).start();
        watcher = new ConfigWatcher(file, sluice::apply);
        for (String empty : new String[] {"", "  \n\n"}) {
            int reads = watcher.reads();
            Files.writeString(file, empty);
            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.reads() > reads && watcher.lastError() != null);
            assertThat(watcher.lastError()).isEqualTo(file + ": the file is empty (no settings): write 'revisions: []'"
                    + " to run with no revisions on purpose");
            assertThat(sluice.throttlers()).containsKey(A);
            Files.writeString(file, yaml(revision("a", 1, p1)));
            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.lastError() == null);
        }
    }

    @Test
    void removingEveryRevisionOnPurposeIsAppliedWithAWarningThatCountsThem() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(ConfigReconciler.class);
        ListAppender<ILoggingEvent> seen = new ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try {
            sluice = SluiceServer.builder(ConfigLoader.parse("t", yaml(revision("a", 1) + revision("b", 1))))
                    .ioThreads(1).start();
            sluice.apply(ConfigLoader.parse("t", "listen: {proxy: '127.0.0.1:0', control: '127.0.0.1:0'}\n"
                    + "revisions: []\n"));
            assertThat(sluice.throttlers()).isEmpty();
            assertThat(seen.list).filteredOn(e -> e.getLevel() == Level.WARN)
                    .extracting(ILoggingEvent::getFormattedMessage)
                    .containsExactly("the new configuration has no revisions: removing all 2 revision(s) of the file");
        } finally {
            log.detachAppender(seen);
        }
    }
}
