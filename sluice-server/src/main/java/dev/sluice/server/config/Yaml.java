package dev.sluice.server.config;

import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.dataformat.yaml.YAMLFactory;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLSchema;

/**
 * The configuration's one YAML reader: {@link ConfigLoader} parses a file with it, and
 * {@link AnnotationReader} a Service's annotation values, so both read a scalar the same way.
 * A Jackson mapper, configured once: thread-safe.
 */
final class Yaml {

    /**
     * A key given twice is refused with its line, not "the last one wins". YAML 1.2's core schema
     * ({@code ~} and {@code null} are null, {@code 0x10} a number), the closest to how Jackson 2
     * read the file; unlike it, {@code yes}/{@code no} and {@code 1_000} stay strings, so such a
     * value is refused with its field rather than read as a boolean or a number. What follows the
     * first document is ignored, as Jackson 2 did (Jackson 3 would refuse it).
     */
    static final YAMLMapper MAPPER = YAMLMapper.builder(YAMLFactory.builder().yamlSchema(YAMLSchema.CORE).build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private Yaml() {
    }
}
