package dev.sluice.server.runtime;

import dev.sluice.server.config.ConfigException;
import dev.sluice.server.config.ConfigLoader;
import dev.sluice.server.config.SluiceConfig;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches {@code sluice.yaml}: a valid change is applied to the running Sluice, an invalid one
 * is refused with the file, field and reason, and the running configuration stays.
 *
 * <h2>Implementation notes</h2>
 * The directory is watched, not the file's name: a file may change without an event of its
 * own name. Editors write a temporary and rename it; kubelet updates a mounted ConfigMap by
 * writing a new {@code ..2026_…} directory, pointing a {@code ..data_tmp} symlink at it and
 * renaming that over {@code ..data}, while {@code sluice.yaml -> ..data/sluice.yaml} itself
 * never changes. So any event in the directory (creation, change, deletion, overflow) makes
 * the watcher read the file through its path, symlinks resolved, once a burst of events has
 * settled; it applies the content only when it differs from the content last read, so the
 * unrelated files of a directory, or a swap to identical content, change nothing.
 *
 * <p>One thread (this watcher's) reads, compares and applies; {@link #lastError()} and
 * {@link #reads()} are volatile for readers on other threads.
 */
public final class ConfigWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

    private final Path file;
    private final WatchService watch;
    private final Thread thread;
    private final Consumer<SluiceConfig> apply;
    /** The content last read (applied or refused); only the watcher thread touches it after start. */
    private String lastContent;
    private volatile String lastError;
    private volatile int reads;

    /**
     * @param file  the configuration file, as Sluice was started with it (it may be a symlink)
     * @param apply given each changed, valid configuration
     */
    public ConfigWatcher(Path file, Consumer<SluiceConfig> apply) throws IOException {
        this.file = file.toAbsolutePath().normalize();
        this.apply = apply;
        this.lastContent = read();
        this.watch = FileSystems.getDefault().newWatchService();
        this.file.getParent().register(watch, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE);
        this.thread = new Thread(this::loop, "sluice-config-watch");
        thread.setDaemon(true);
        thread.start();
    }

    /** The last refused change's reason, or null if the last change applied. */
    public String lastError() {
        return lastError;
    }

    /** How many times the file was read after events in its directory (changed or not). */
    public int reads() {
        return reads;
    }

    private void loop() {
        try {
            for (;;) {
                WatchKey key = watch.take();
                key.pollEvents();
                key.reset();
                // Let a burst of writes (or a symlink swap's create-rename-delete) settle, then read once.
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

    /** The file's content through its path, or null when it cannot be read now. */
    private String read() {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return null;
        }
    }

    private void reload() {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            refused(file + ": file not found");
            return;
        } catch (IOException e) {
            refused(file + ": cannot read: " + e.getMessage());
            return;
        } finally {
            reads++;
        }
        if (text.equals(lastContent)) {
            return; // something else in the directory changed, or the same content came back
        }
        lastContent = text;
        try {
            SluiceConfig c = ConfigLoader.parse(file.toString(), text);
            apply.accept(c);
            lastError = null;
        } catch (ConfigException e) {
            refused(e.getMessage());
        } catch (RuntimeException e) {
            lastError = e.toString();
            LOG.error("configuration change could not be applied", e);
        }
    }

    private void refused(String why) {
        lastError = why;
        LOG.error("configuration change refused, the running configuration stays: {}", why);
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
