package dev.sluice.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command's refusals that need a real socket: a listen address another process holds. */
class SluiceCommandIT {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = SluiceCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void aPortInUseSaysWhichAddressAndSetting(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Path config = dir.resolve("sluice.yaml");
            Files.writeString(config, "listen: {proxy: '127.0.0.1:" + taken.getLocalPort() + "', control: '127.0.0.1:0'}\n"
                    + "revisions: []\n");
            assertThat(run("run", "--config", config.toString())).isEqualTo(1);
            assertThat(err.toString()).isEqualTo("sluice: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + " (listen.proxy): address already in use" + System.lineSeparator());
        }
    }
}
