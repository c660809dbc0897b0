package dev.sluice.server.config;

import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.RevisionCatalog;
import java.util.Map;
import java.util.TreeSet;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a revision from a labelled Service's {@code sluice.dev/*} annotations: each annotation
 * is put where {@code sluice.yaml} writes the same field (a value parsed as YAML scalars are, so
 * {@code "1"} is a number and {@code "30s"} a duration), then {@link ConfigReader#revision}
 * validates it, and a problem is reported under the annotation's name rather than the field's.
 * Stateless.
 */
final class AnnotationReader {

    private AnnotationReader() {
    }

    /** Annotation (without {@code sluice.dev/}) → the field it sets, as {@code sluice.yaml} spells it. */
    private static final Map<String, String> ANNOTATION_FIELDS = Map.ofEntries(
            Map.entry("hosts", "hosts"), Map.entry("containerConcurrency", "containerConcurrency"),
            Map.entry("policy", "policy"), Map.entry("queueDepth", "queueDepth"),
            Map.entry("overflowStatus", "overflowStatus"), Map.entry("maxScale", "maxScale"),
            Map.entry("readinessPath", "readinessPath"), Map.entry("staleThreshold", "staleThreshold"),
            Map.entry("drainTimeout", "drainTimeout"), Map.entry("queueTimeout", "timeouts.queue"),
            Map.entry("requestTimeout", "timeouts.total"), Map.entry("responseStartTimeout", "timeouts.responseStart"),
            Map.entry("scaleToZeroGrace", "scaleToZeroGrace"),
            Map.entry("protocol", "protocol"), Map.entry("readinessProbe", "readinessProbe"));

    /**
     * The revision a labelled Service's annotations describe, with the file's top-level
     * {@code queueing} section ({@code defaultQueueing}); errors name the Service and the annotation.
     */
    static RevisionConfig revision(DiscoveredRevision d, Queueing defaultQueueing) throws ConfigException {
        String file = d.source();
        ObjectNode node = Yaml.MAPPER.createObjectNode();
        node.put("namespace", d.id().namespace());
        node.put("name", d.id().name());
        for (Map.Entry<String, String> e : d.settings().entrySet()) {
            String field = ANNOTATION_FIELDS.get(e.getKey());
            String annotation = RevisionCatalog.ANNOTATION_PREFIX + e.getKey();
            if (field == null) {
                throw new ConfigException(file, annotation, "unknown annotation (known: "
                        + String.join(", ", new TreeSet<>(ANNOTATION_FIELDS.keySet())) + ", port)");
            }
            ObjectNode parent = node;
            String leaf = field;
            if (field.startsWith("timeouts.")) {
                parent = node.has("timeouts") ? (ObjectNode) node.get("timeouts") : node.putObject("timeouts");
                leaf = field.substring("timeouts.".length());
            }
            if (leaf.equals("hosts")) {
                ArrayNode list = parent.putArray("hosts");
                for (String h : e.getValue().split(",")) {
                    list.add(h.trim());
                }
            } else {
                JsonNode value;
                try {
                    // "1" → a number, "30s" → text, as in the file
                    value = Yaml.MAPPER.readTree(e.getValue());
                } catch (JacksonException ex) {
                    value = null;
                }
                if (value == null || !value.isValueNode()) {
                    parent.put(leaf, e.getValue());
                } else {
                    parent.set(leaf, value);
                }
            }
        }
        node.putObject("service").put("namespace", d.service().namespace()).put("name", d.service().name());
        if (d.service().port() != null) {
            ((ObjectNode) node.get("service")).put("port", d.service().port());
        }
        try {
            ConfigReader reader = new ConfigReader(file, defaultQueueing);
            RevisionConfig c = reader.part(() -> reader.revision(node, ""));
            reader.finish();
            return c;
        } catch (ConfigException all) {
            ConfigException e = all.problems().get(0);
            String field = e.field().startsWith(".") ? e.field().substring(1) : e.field();
            for (Map.Entry<String, String> a : ANNOTATION_FIELDS.entrySet()) {
                if (field.equals(a.getValue()) || field.startsWith(a.getValue() + "[")) {
                    field = RevisionCatalog.ANNOTATION_PREFIX + a.getKey();
                    break;
                }
            }
            throw new ConfigException(file, field, e.reason());
        }
    }
}
