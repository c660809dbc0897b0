package dev.sluice.server.config;

import dev.sluice.kubernetes.DiscoveredRevision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Reads and validates {@code sluice.yaml}. Every problem is reported as a
 * {@link ConfigException} naming the file, the field (e.g. {@code revisions[1].timeouts.queue})
 * and the reason; unknown fields are errors, so a typo never silently falls back to a default.
 * A file is read whole before it is refused: every problem found is reported at once
 * ({@link ConfigException#problems()}), in the order of the file. What {@code run} will need is
 * checked here too, so {@code validate} passes only what {@code run} can start with: the token
 * file must be readable and not empty, addresses and networks well formed. An empty file is an
 * error ({@code revisions: []} says "no revisions" on purpose), and so is a key given twice.
 *
 * <p>Start here: this class parses the text; {@link ConfigReader} validates each field of the
 * tree, and {@link AnnotationReader} reads a Kubernetes Service's annotations through the same
 * validation. Stateless and thread-safe.
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /** Loads a file. */
    public static SluiceConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), "", "file not found");
        } catch (IOException e) {
            throw new ConfigException(file.toString(), "", "cannot read: " + e.getMessage());
        }
        return parse(file.toString(), text);
    }

    /** Parses YAML text; {@code name} is what errors call the file. */
    public static SluiceConfig parse(String name, String yaml) throws ConfigException {
        if (yaml.isBlank()) {
            throw new ConfigException(name, "", EMPTY);
        }
        JsonNode root;
        try {
            root = Yaml.MAPPER.readTree(yaml);
        } catch (JacksonException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr();
            throw new ConfigException(name, "", "not valid YAML" + where + ": " + reason(e.getOriginalMessage()));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new ConfigException(name, "", EMPTY);
        }
        ConfigReader reader = new ConfigReader(name);
        SluiceConfig c = reader.part(() -> reader.config(root)); // a section that is not a mapping stops here,
        reader.finish();                                          // after the problems found before it
        return c;
    }

    /** Jackson 3's words for a key given twice; Sluice keeps saying it as it always has. */
    private static final Pattern DUPLICATE = Pattern.compile("Duplicate Object property \"(.*)\"");

    private static String reason(String jackson) {
        Matcher m = DUPLICATE.matcher(jackson);
        return m.matches() ? "Duplicate field '" + m.group(1) + "'" : jackson;
    }

    private static final String EMPTY = "the file is empty (no settings): write 'revisions: []' to run with no"
            + " revisions on purpose";

    /** The configuration without a file: every default, no revisions. */
    public static SluiceConfig defaults() {
        try {
            return parse("(built-in defaults)", "revisions: []");
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A revision found from a labelled Service, its annotations validated exactly as the same
     * fields in {@code sluice.yaml} are ({@link AnnotationReader}). Errors name the Service and
     * the annotation. It takes the top-level {@code queueing} section of the file in force
     * ({@code defaultQueueing}), as the file's own revisions without a section of their own do.
     */
    public static RevisionConfig revision(DiscoveredRevision d, Queueing defaultQueueing) throws ConfigException {
        return AnnotationReader.revision(d, defaultQueueing);
    }
}
