package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JitThreadNiceTest {

    @Test
    void parsesNiceValuesAndSaysWhatIsWrong() {
        assertThat(JitThreadNice.parse("0")).isZero();
        assertThat(JitThreadNice.parse(" 10 ")).isEqualTo(10);
        assertThat(JitThreadNice.parse("19")).isEqualTo(19);
        assertThatThrownBy(() -> JitThreadNice.parse("20")).hasMessage("nice 20 is outside 0..19 (the JIT threads"
                + " can only be given a lower priority, never a higher one)");
        assertThatThrownBy(() -> JitThreadNice.parse("-1")).hasMessageContaining("nice -1 is outside 0..19");
        assertThatThrownBy(() -> JitThreadNice.parse("low")).hasMessageStartingWith("'low' is not a nice value: expected"
                + " auto or a whole number");
        assertThat(JitThreadNice.parse(" Auto ")).isEqualTo(JitThreadNice.AUTO);
        assertThatThrownBy(() -> JitThreadNice.parse(null)).hasMessageContaining("is not a nice value");
    }

    @Test
    void autoLowersTheJitOnlyWhileTheIoThreadsLeaveACoreFree() {
        assertThat(JitThreadNice.resolve(JitThreadNice.AUTO, 1, 2)).isEqualTo(JitThreadNice.AUTO_NICE);
        assertThat(JitThreadNice.resolve(JitThreadNice.AUTO, 2, 2)).isZero();
        assertThat(JitThreadNice.resolve(JitThreadNice.AUTO, 4, 2)).isZero();
        assertThat(JitThreadNice.resolve(JitThreadNice.AUTO, 15, 16)).isEqualTo(JitThreadNice.AUTO_NICE);
        // An explicit value is taken as given, whatever the threads.
        assertThat(JitThreadNice.resolve(7, 2, 2)).isEqualTo(7);
        assertThat(JitThreadNice.resolve(0, 1, 2)).isZero();
    }

    /** HotSpot's compiler threads are picked by their name in comm; every other thread is left alone. */
    @Test
    void findsTheCompilerThreadsByName(@TempDir Path tasks) throws Exception {
        thread(tasks, "101", "C2 CompilerThre");
        thread(tasks, "102", "C1 CompilerThre");
        thread(tasks, "103", "sluice-io-3-1");
        thread(tasks, "104", "GC Thread#0");
        Files.createDirectory(tasks.resolve("105")); // ended while listed: no comm any more
        assertThat(JitThreadNice.compilerThreads(tasks)).containsExactlyInAnyOrder(101L, 102L);
        assertThat(JitThreadNice.compilerThreads(tasks.resolve("absent"))).isEmpty();
    }

    /**
     * On JDK 22+ (Linux) every compiler thread of this JVM must then show the nice value in
     * /proc, read independently of the class's own read-back, and a later, smaller value must
     * not raise them again; elsewhere the outcome must say why nothing was set.
     */
    @Test
    void lowersThisJvmsCompilerThreadsOrSaysWhyNot() throws Exception {
        JitThreadNice.Outcome first = JitThreadNice.apply(7);
        if (Runtime.version().feature() < 22) {
            assertThat(first.threads()).isZero();
            assertThat(first.notSet()).contains("needs JDK 22 or newer");
            return;
        }
        assertThat(first.notSet()).isNull();
        List<Long> tids = JitThreadNice.compilerThreads(Path.of("/proc/self/task"));
        assertThat(first.threads()).isPositive().isEqualTo(tids.size());
        for (long tid : tids) {
            assertThat(procNice(tid)).as("nice of compiler thread %d", tid).isGreaterThanOrEqualTo(7);
        }
        JitThreadNice.Outcome second = JitThreadNice.apply(3);
        assertThat(second.notSet()).isNull();
        for (long tid : tids) {
            assertThat(procNice(tid)).as("nice of compiler thread %d after asking for 3", tid).isGreaterThanOrEqualTo(7);
        }
        assertThat(JitThreadNice.apply(0).notSet()).contains("outside 1..19");
    }

    private static void thread(Path tasks, String tid, String comm) throws Exception {
        Files.writeString(Files.createDirectory(tasks.resolve(tid)).resolve("comm"), comm + "\n");
    }

    /** Field 19 of /proc/self/task/<tid>/stat, counted after the command name's closing parenthesis. */
    private static long procNice(long tid) throws Exception {
        String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(rest[19 - 3]);
    }
}
