package dev.sluice.server.config;

import dev.sluice.core.throttle.QueuePolicy;
import dev.sluice.server.config.Queueing.QueueClass;
import dev.sluice.server.config.Queueing.QueueRule;
import dev.sluice.server.config.Queueing.TenantCap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Reads one {@code queueing} section (the top-level default, or a revision's own) into a
 * {@link Queueing}, collecting every problem with its field, as {@link ConfigReader} does for
 * the rest of the file; {@link ConfigReader} asks it and adds what it found to its own list.
 * One reader per section, on one thread.
 */
final class QueueingReader extends FieldReader {

    private static final Set<String> FIELDS = Set.of("classes", "defaultClass", "priorityHeader", "tenantHeader",
            "rules", "tenantWeights", "tenantCap", "preemption");
    private static final Set<String> CLASS_FIELDS = Set.of("name", "queueTimeout");
    private static final Set<String> RULE_FIELDS = Set.of("host", "pathPrefix", "header", "value", "class", "tenant");
    /** A class name, a tenant, a header name: an HTTP token, so it can be sent in a header and used as a label. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}");
    private static final Pattern SHARE = Pattern.compile("(\\d{1,3})\\s*%");

    QueueingReader(String file) {
        super(file, new ArrayList<>());
    }

    /** What was wrong, field by field; empty if nothing was. */
    List<ConfigException> problems() {
        return problems;
    }

    /**
     * The section at {@code at} ({@code queueing} or {@code revisions[2].queueing}), or
     * {@code inherited} if there is none. A section that has problems yields {@link Queueing#NONE}.
     *
     * @param requestTimeout the revision's {@code timeouts.total}, which no class may wait past;
     *                       null for the top-level section (checked per revision instead)
     */
    Queueing read(JsonNode node, String at, Queueing inherited, Duration requestTimeout) {
        if (node == null || node.isNull()) {
            return inherited;
        }
        int before = problems.size();
        if (!node.isObject()) {
            return invalid(at, "must be a mapping of " + new TreeSet<>(FIELDS), Queueing.NONE);
        }
        unknown(node, at, FIELDS);
        List<QueueClass> classes = classes(node.get("classes"), at + ".classes", requestTimeout);
        int defaultClass = classes.size() - 1;
        String dflt = scalar(node, at + ".defaultClass", "defaultClass", null);
        if (dflt != null && !classes.isEmpty()) {
            defaultClass = index(classes, dflt);
            if (defaultClass < 0) {
                defaultClass = invalid(at + ".defaultClass", "'" + dflt + "' is not one of the classes "
                        + names(classes), 0);
            }
        }
        String priorityHeader = header(node, at + ".priorityHeader", "priorityHeader", Queueing.DEFAULT_PRIORITY_HEADER);
        String tenantHeader = header(node, at + ".tenantHeader", "tenantHeader", Queueing.DEFAULT_TENANT_HEADER);
        List<QueueRule> rules = rules(node.get("rules"), at + ".rules", classes);
        Map<String, Integer> weights = weights(node.get("tenantWeights"), at + ".tenantWeights");
        TenantCap cap = cap(node.get("tenantCap"), at + ".tenantCap");
        boolean preemption = false;
        JsonNode p = node.get("preemption");
        if (p != null && !p.isNull()) {
            preemption = p.isBoolean() ? p.booleanValue()
                    : invalid(at + ".preemption", "must be true or false, was '" + p.asString("") + "'", false);
        }
        if (problems.size() > before || classes.isEmpty()) {
            return Queueing.NONE;
        }
        return new Queueing(classes, defaultClass, priorityHeader, tenantHeader, rules, weights, cap, preemption);
    }

    /** A class timeout longer than a revision's {@code timeouts.total} (for an inherited section). */
    void checkTimeouts(Queueing q, String at, Duration requestTimeout) {
        for (int i = 0; i < q.classes().size(); i++) {
            Duration d = q.classes().get(i).queueTimeout();
            if (d != null && d.compareTo(requestTimeout) > 0) {
                invalid(at, "class '" + q.classes().get(i).name() + "' of the top-level queueing section may wait "
                        + Durations.format(d) + ", longer than this revision's timeouts.total ("
                        + Durations.format(requestTimeout) + "): a request cannot wait longer than it may live", null);
            }
        }
    }

    private List<QueueClass> classes(JsonNode node, String at, Duration requestTimeout) {
        List<QueueClass> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return invalid(at, "missing: list the priority classes, the first served first (e.g. [interactive,"
                    + " batch])", out);
        }
        if (!node.isArray() || node.isEmpty()) {
            return invalid(at, "must be a non-empty list of class names (or of {name, queueTimeout})", out);
        }
        if (node.size() > QueuePolicy.MAX_CLASSES) {
            return invalid(at, "at most " + QueuePolicy.MAX_CLASSES + " classes, was " + node.size(), out);
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < node.size(); i++) {
            String field = at + "[" + i + "]";
            JsonNode c = node.get(i);
            String name;
            Duration timeout = null;
            if (c.isObject()) {
                unknown(c, field, CLASS_FIELDS);
                name = scalar(c, field + ".name", "name", null);
                if (name == null) {
                    invalid(field + ".name", "missing: every class needs a name", null);
                    continue;
                }
                JsonNode t = c.get("queueTimeout");
                if (t != null && !t.isNull()) {
                    timeout = duration(t, field + ".queueTimeout", requestTimeout);
                }
            } else if (c.isString()) {
                name = c.asString();
            } else {
                invalid(field, "must be a class name or {name, queueTimeout}", null);
                continue;
            }
            if (!TOKEN.matcher(name).matches()) {
                invalid(field, "class name '" + name + "' must be 1-64 letters, digits or -._~ (it is sent in a"
                        + " header and used as a metric label)", null);
                continue;
            }
            if (!seen.add(name.toLowerCase(Locale.ROOT))) {
                invalid(field, "class '" + name + "' is listed twice (names ignore case)", null);
                continue;
            }
            out.add(new QueueClass(name, timeout));
        }
        return out;
    }

    private Duration duration(JsonNode t, String field, Duration requestTimeout) {
        Duration d;
        try {
            d = Durations.parse(t.asString(""));
        } catch (IllegalArgumentException e) {
            return invalid(field, e.getMessage(), null);
        }
        if (d.isNegative() || d.isZero()) {
            return invalid(field, "must be positive, was " + t.asString(""), null);
        }
        if (requestTimeout != null && d.compareTo(requestTimeout) > 0) {
            return invalid(field, "(" + Durations.format(d) + ") must not exceed timeouts.total ("
                    + Durations.format(requestTimeout) + "): a request cannot wait longer than it may live", null);
        }
        return d;
    }

    private List<QueueRule> rules(JsonNode node, String at, List<QueueClass> classes) {
        List<QueueRule> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            return invalid(at, "must be a list of rules ({host, pathPrefix, header, value} → {class, tenant})", out);
        }
        for (int i = 0; i < node.size(); i++) {
            String field = at + "[" + i + "]";
            JsonNode r = node.get(i);
            if (!r.isObject()) {
                invalid(field, "must be a mapping of " + new TreeSet<>(RULE_FIELDS), null);
                continue;
            }
            unknown(r, field, RULE_FIELDS);
            String host = scalar(r, field + ".host", "host", null);
            String prefix = scalar(r, field + ".pathPrefix", "pathPrefix", null);
            String header = scalar(r, field + ".header", "header", null);
            String value = scalar(r, field + ".value", "value", null);
            String cls = scalar(r, field + ".class", "class", null);
            String tenant = scalar(r, field + ".tenant", "tenant", null);
            if (host == null && prefix == null && header == null) {
                invalid(field, "matches every request: give host, pathPrefix or header", null);
            }
            if (prefix != null && !prefix.startsWith("/")) {
                invalid(field + ".pathPrefix", "must start with '/', was '" + prefix + "'", null);
            }
            if (header != null && !TOKEN.matcher(header).matches()) {
                invalid(field + ".header", "'" + header + "' is not a header name", null);
            }
            if (value != null && header == null) {
                invalid(field + ".value", "needs header: the value of which header?", null);
            }
            if (cls == null && tenant == null) {
                invalid(field, "does nothing: give class, tenant or both", null);
            }
            int index = -1;
            if (cls != null && !classes.isEmpty()) {
                index = index(classes, cls);
                if (index < 0) {
                    invalid(field + ".class", "'" + cls + "' is not one of the classes " + names(classes), null);
                }
            }
            if (tenant != null && !TOKEN.matcher(tenant).matches()) {
                invalid(field + ".tenant", "tenant '" + tenant + "' must be 1-64 letters, digits or -._~", null);
            }
            out.add(new QueueRule(host, prefix, header, value, index, tenant));
        }
        return out;
    }

    private Map<String, Integer> weights(JsonNode node, String at) {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            return invalid(at, "must be a mapping of tenant to weight (e.g. {acme: 3})", out);
        }
        Iterator<String> names = node.propertyNames().iterator();
        while (names.hasNext()) {
            String tenant = names.next();
            JsonNode w = node.get(tenant);
            if (!w.isIntegralNumber() || !w.canConvertToInt() || w.intValue() < 1
                    || w.intValue() > QueuePolicy.MAX_WEIGHT) {
                invalid(at + "." + tenant, "must be a whole number from 1 to " + QueuePolicy.MAX_WEIGHT + ", was '"
                        + w.asString("") + "'", null);
                continue;
            }
            out.put(tenant, w.intValue());
        }
        return out;
    }

    private TenantCap cap(JsonNode node, String at) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isIntegralNumber() && node.canConvertToInt() && node.intValue() >= 1) {
            return new TenantCap(node.intValue(), 0);
        }
        Matcher m = SHARE.matcher(node.asString("").trim());
        if (m.matches()) {
            int pct = Integer.parseInt(m.group(1));
            if (pct >= 1 && pct <= 100) {
                return new TenantCap(0, pct);
            }
        }
        return invalid(at, "must be a number of requests (1 or more) or a share of queueDepth from 1% to 100%,"
                + " was '" + node.asString("") + "'", null);
    }

    private String header(JsonNode node, String at, String key, String dflt) {
        JsonNode n = node.get(key);
        if (n == null) {
            return dflt;
        }
        String h = n.isNull() ? "" : n.asString("");
        if (h.isEmpty() || h.equals("off")) {
            return null;
        }
        if (!TOKEN.matcher(h).matches()) {
            return invalid(at, "'" + h + "' is not a header name (write off to read no header)", dflt);
        }
        return h;
    }

    private String scalar(JsonNode parent, String at, String key, String dflt) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isValueNode()) {
            return invalid(at, "must be a single value", dflt);
        }
        return n.asString("");
    }

    private void unknown(JsonNode node, String at, Set<String> known) {
        Iterator<String> names = node.propertyNames().iterator();
        while (names.hasNext()) {
            String n = names.next();
            if (!known.contains(n)) {
                invalid(at + "." + n, "unknown field (known here: " + String.join(", ", new TreeSet<>(known)) + ")",
                        null);
            }
        }
    }

    private static int index(List<QueueClass> classes, String name) {
        for (int i = 0; i < classes.size(); i++) {
            if (classes.get(i).name().equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    private static List<String> names(List<QueueClass> classes) {
        return classes.stream().map(QueueClass::name).toList();
    }
}
