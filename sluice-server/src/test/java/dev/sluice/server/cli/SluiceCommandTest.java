package dev.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SluiceCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = SluiceCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void validateAcceptsTheExample() {
        assertThat(run("validate", "../examples/sluice.yaml")).isZero();
        assertThat(out.toString()).contains("valid (2 revision(s))");
    }

    @Test
    void aBadConfigIsRefusedWithFileAndFieldAndNoStackTrace(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "revisions:\n  - name: a\n    containerConcurrency: many\n");
        assertThat(run("validate", bad.toString())).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("sluice: invalid configuration: " + bad
                + ": revisions[0].containerConcurrency: must be a whole number, was 'many'" + System.lineSeparator());
        assertThat(run("run", "--config", bad.toString())).isEqualTo(2);
        assertThat(err.toString()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void badOptionsAreRefused(@TempDir Path dir) throws Exception {
        Path ok = dir.resolve("ok.yaml");
        Files.writeString(ok, "revisions: []\n");
        assertThat(run("run", "--config", ok.toString(), "--proxy-listen", "nowhere")).isEqualTo(2);
        assertThat(err.toString()).contains("invalid option").contains("not host:port");
        assertThat(run("run", "--config", ok.toString(), "--transport", "dpdk")).isEqualTo(2);
        assertThat(err.toString()).contains("invalid option --transport: unknown transport 'dpdk'"
                + " (expected one of auto, io_uring, epoll, nio)");
        assertThat(run("run", "--config", ok.toString(), "--io-slice", "20us")).isEqualTo(2);
        assertThat(err.toString()).contains("invalid option --io-slice: slice 20us is outside what Linux accepts");
    }

    @Test
    void noSubcommandPrintsUsage() {
        assertThat(run()).isEqualTo(2);
        assertThat(out.toString()).contains("Usage: sluice").contains("run").contains("validate");
    }

    @Test
    void validateChecksWhatRunNeedsAndReportsEveryError(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("sluice.yaml");
        Path token = dir.resolve("nope-token");
        Files.writeString(bad, "listen: {proxy: '0.0.0.0:80800'}\ncontrol: {tokenFile: '" + token + "'}\n"
                + "revisions:\n  - {name: a, containerConcurrency: many}\n");
        assertThat(run("validate", bad.toString())).isEqualTo(2);
        String n = System.lineSeparator();
        assertThat(err.toString()).isEqualTo(
                "sluice: invalid configuration: " + bad + ": listen.proxy: '0.0.0.0:80800' has port 80800, outside 0-65535" + n
                + "sluice: invalid configuration: " + bad + ": control.tokenFile: cannot read " + token + ": no such file" + n
                + "sluice: invalid configuration: " + bad + ": revisions[0].containerConcurrency: must be a whole number,"
                + " was 'many'" + n);
    }

    @Test
    void runHelpDocumentsTheExitCodes() {
        assertThat(run("run", "--help")).isZero();
        assertThat(out.toString()).contains("Exit codes:").contains("0  ").contains("3  ");
    }
}
