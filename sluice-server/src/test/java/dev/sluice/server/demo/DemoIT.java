package dev.sluice.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DemoIT {

    @Test
    void theDemoScalesFromZeroAndLosesNothingWhilePodsDrainLeaveAndJoin() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Duration coldStart = Duration.ofMillis(500);
        Demo.Summary s = new Demo(new Demo.Options(2, 1, Duration.ofMillis(5), 6, Duration.ofSeconds(4), coldStart),
                out, false).run();
        String text = buf.toString(StandardCharsets.UTF_8);
        assertThat(s.errors()).as(text).isZero();
        assertThat(s.violations()).as(text).isZero();
        assertThat(s.served()).as("requests were served").isPositive();
        assertThat(s.coldStartSeconds()).as("Sluice's cold start covers the stand-in's delay: %s", text)
                .isGreaterThanOrEqualTo(coldStart.toMillis() / 1e3);
        assertThat(text).contains("has no pod yet").contains("KEDA stand-in over gRPC (StreamIsActive): active")
                .contains("pod-1 ready").contains("pod-1 draining: its").contains("pod-1 gone")
                .contains("pod-3 starting").contains("wait in Sluice's queue, so latency")
                .contains("Scale from zero: the first pod was ready")
                .contains("0 errors, 0 concurrency violations");
        assertThat(text.indexOf("active, a request waits")).as("the push comes before any pod is ready")
                .isLessThan(text.indexOf("pod-1 ready"));
    }
}
