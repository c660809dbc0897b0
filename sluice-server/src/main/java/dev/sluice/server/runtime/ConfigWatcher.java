package dev.sluice.server.runtime;

import dev.sluice.server.config.ConfigException;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.SluiceConfig;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches {@code sluice.yaml}: a valid change is applied to the running Sluice, an invalid one
 * is refused with the file, field and reason, and the running configuration stays. Editors
 * that replace the file (write a temporary, rename) are handled: the directory is watched.
 */
public final class ConfigWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    private final Path file;
    private final WatchService watch;
    private final Thread thread;
    private final Consumer<SluiceConfig> apply;
    private volatile String lastError;

    public ConfigWatcher(Path file, Consumer<SluiceConfig> apply) throws IOException {
        this.file = file.toAbsolutePath().normalize();
        this.apply = apply;
        this.watch = FileSystems.getDefault().newWatchService();
        this.file.getParent().register(watch, StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_CREATE);
        this.thread = new Thread(this::loop, "sluice-config-watch");
        thread.setDaemon(true);
        thread.start();
    }

    /** The last refused change's reason, or null if the last change applied. */
    public String lastError() {
        return lastError;
    }

    private void loop() {
        try {
            for (;;) {
                WatchKey key = watch.take();
                boolean ours = false;
                for (WatchEvent<?> e : key.pollEvents()) {
                    if (e.context() instanceof Path p && file.getFileName().equals(p)) {
                        ours = true;
                    }
                }
                key.reset();
                if (!ours) {
                    continue;
                }
                // Let a burst of writes settle, then read once.
                WatchKey more;
                while ((more = watch.poll(100, TimeUnit.MILLISECONDS)) != null) {
                    more.pollEvents();
                    more.reset();
                }
                reload();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        }
    }

    private void reload() {
        try {
            SluiceConfig c = ConfigLoader.load(file);
            apply.accept(c);
            lastError = null;
        } catch (ConfigException e) {
            lastError = e.getMessage();
            LOG.error("configuration change refused, the running configuration stays: {}", e.getMessage());
        } catch (RuntimeException e) {
            lastError = e.toString();
            LOG.error("configuration change could not be applied", e);
        }
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (IOException e) {
            // nothing left to do
        }
        thread.interrupt();
    }
}
