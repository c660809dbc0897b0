package dev.sluice.server.config;

import dev.sluice.kubernetes.DiscoveredRevision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLFactory;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLSchema;

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

    public static final String DEFAULT_PROXY_LISTEN = "0.0.0.0:8080";
    public static final String DEFAULT_CONTROL_LISTEN = "127.0.0.1:8081";
    /** KEDA's external scaler, on Kubernetes; elsewhere it is off unless {@code listen.scaler} is set. */
    public static final String DEFAULT_SCALER_LISTEN = "0.0.0.0:9090";
    public static final Duration DEFAULT_DRAIN_PERIOD = Duration.ofSeconds(5);
    public static final Duration DEFAULT_GRACE_PERIOD = Duration.ofSeconds(30);
    public static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(300);

    /**
     * A key given twice is refused with its line, not "the last one wins". YAML 1.2's core schema
     * ({@code ~} and {@code null} are null, {@code 0x10} a number), the closest to how Jackson 2
     * read the file; unlike it, {@code yes}/{@code no} and {@code 1_000} stay strings, so such a
     * value is refused with its field rather than read as a boolean or a number. What follows the
     * first document is ignored, as Jackson 2 did (Jackson 3 would refuse it).
     */
    static final YAMLMapper YAML = YAMLMapper.builder(YAMLFactory.builder().yamlSchema(YAMLSchema.CORE).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

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
            root = YAML.readTree(yaml);
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
     * the annotation.
     */
    public static RevisionConfig revision(DiscoveredRevision d) throws ConfigException {
        return AnnotationReader.revision(d);
    }
}
