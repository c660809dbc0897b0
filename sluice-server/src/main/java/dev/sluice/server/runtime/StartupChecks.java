package dev.sluice.server.runtime;

import dev.sluice.server.config.ListenAddress;
import dev.sluice.server.config.SluiceConfig;
import java.io.IOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.Locale;

/** What can stop Sluice from starting, each said in words a person can act on. Stateless. */
final class StartupChecks {

    private StartupChecks() {
    }

    interface Bind<T> {
        T bind() throws Exception;
    }

    /**
     * Binds one listen socket; a failure says which address, which setting and the OS reason,
     * not the transport's {@code bind(..) failed with error(-98)}.
     */
    static <T> T listen(ListenAddress address, String field, Bind<T> bind) throws Exception {
        try {
            return bind.bind();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            String reason = bindFailure(e);
            if (reason == null) {
                throw e;
            }
            throw new StartupException("cannot listen on " + address + " (" + field + "): " + reason, e);
        }
    }

    /** The OS reason a bind failed, in words, or null when the failure was not a bind. */
    static String bindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("address already in use") || m.contains("error(-98)")) {
                return "address already in use";
            }
            if (m.contains("permission denied") || m.contains("error(-13)")) {
                return "permission denied (ports below 1024 need privileges)";
            }
            if (m.contains("cannot assign requested address") || m.contains("error(-99)")) {
                return "cannot assign requested address (not an address of this machine)";
            }
            if (t instanceof BindException || m.contains("bind(")) {
                return t.getMessage();
            }
        }
        return null;
    }

    /** The control token: {@code control.tokenFile}'s content, else {@code envToken}; null if neither. */
    static byte[] token(SluiceConfig config, String envToken) throws StartupException {
        String t = envToken;
        if (config.controlTokenFile() != null) {
            try {
                t = Files.readString(config.controlTokenFile()).trim();
            } catch (NoSuchFileException e) {
                throw new StartupException("cannot read control.tokenFile " + config.controlTokenFile()
                        + ": no such file");
            } catch (AccessDeniedException e) {
                throw new StartupException("cannot read control.tokenFile " + config.controlTokenFile()
                        + ": permission denied");
            } catch (IOException e) {
                throw new StartupException("cannot read control.tokenFile " + config.controlTokenFile() + ": "
                        + e.getMessage());
            }
            if (t.isEmpty()) {
                throw new StartupException("control.tokenFile " + config.controlTokenFile() + " is empty");
            }
        }
        return t == null || t.isBlank() ? null : t.trim().getBytes(StandardCharsets.UTF_8);
    }
}
