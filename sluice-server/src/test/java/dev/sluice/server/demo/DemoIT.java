package dev.sluice.server.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DemoIT {

    @Test
    void theDemoLosesNothingWhilePodsDrainLeaveAndJoin() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        Demo.Summary s = new Demo(new Demo.Options(2, 1, Duration.ofMillis(5), 6, Duration.ofSeconds(3)), out, false)
                .run();
        String text = buf.toString(StandardCharsets.UTF_8);
        assertThat(s.errors()).as(text).isZero();
        assertThat(s.violations()).as(text).isZero();
        assertThat(s.served()).as("requests were served").isPositive();
        assertThat(text).contains("pod-1").contains("pod-3").contains("gone")
                .contains("0 errors, 0 concurrency violations");
    }
}
