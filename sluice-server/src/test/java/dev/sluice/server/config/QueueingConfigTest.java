package dev.sluice.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.RevisionId;
import dev.sluice.core.throttle.QueuePolicy;
import dev.sluice.kubernetes.DiscoveredRevision;
import dev.sluice.kubernetes.ServiceRef;
import java.time.Duration;
import java.util.Map;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

class QueueingConfigTest {

    private static ConfigException failure(String yaml) {
        try {
            ConfigLoader.parse("sluice.yaml", yaml);
        } catch (ConfigException e) {
            return e;
        }
        throw new AssertionError("expected the configuration to be refused:\n" + yaml);
    }

    private static RevisionConfig only(String yaml) throws ConfigException {
        return ConfigLoader.parse("sluice.yaml", yaml).revisions().get(0);
    }

    @Test
    void aRevisionWithoutASectionHasOneFifo() throws ConfigException {
        RevisionConfig r = only("revisions: [{name: a}]");
        assertThat(r.queueing()).isSameAs(Queueing.NONE);
        assertThat(r.queueing().plain()).isTrue();
        assertThat(r.queueing().policy(r.queueDepth())).isEqualTo(QueuePolicy.FIFO);
    }

    @Test
    void everyFieldIsRead() throws ConfigException {
        RevisionConfig r = only("""
                revisions:
                  - name: a
                    queueDepth: 200
                    timeouts: {queue: 30s}
                    queueing:
                      classes: [{name: interactive, queueTimeout: 2s}, batch]
                      defaultClass: interactive
                      priorityHeader: X-Priority
                      tenantHeader: X-Team
                      rules:
                        - {pathPrefix: /jobs/, class: batch}
                        - {host: api.example.com, header: X-Key, value: k1, tenant: acme}
                      tenantWeights: {acme: 3}
                      tenantCap: 25%
                      preemption: true
                """);
        Queueing q = r.queueing();
        assertThat(q.classNames()).containsExactly("interactive", "batch");
        assertThat(q.defaultClass()).isZero();
        assertThat(q.priorityHeader()).isEqualTo("X-Priority");
        assertThat(q.tenantHeader()).isEqualTo("X-Team");
        assertThat(q.rules()).hasSize(2);
        assertThat(q.rules().get(0).cls()).isEqualTo(1);
        assertThat(q.rules().get(1).tenant()).isEqualTo("acme");
        assertThat(q.queueTimeout(0, r.queueTimeout())).isEqualTo(Duration.ofSeconds(2));
        assertThat(q.queueTimeout(1, r.queueTimeout())).isEqualTo(Duration.ofSeconds(30));
        assertThat(q.policy(r.queueDepth())).isEqualTo(new QueuePolicy(50, true, Map.of("acme", 3), 1));
    }

    @Test
    void theTopLevelSectionIsEveryRevisionsDefaultAndTheLastClassTheDefaultClass() throws ConfigException {
        SluiceConfig c = ConfigLoader.parse("sluice.yaml", """
                queueing: {classes: [high, low], tenantCap: 10}
                revisions:
                  - {name: a}
                  - {name: b, queueing: {classes: [only], tenantHeader: off}}
                """);
        Queueing a = c.revisions().get(0).queueing();
        assertThat(a.classNames()).containsExactly("high", "low");
        assertThat(a.defaultClass()).isEqualTo(1);
        assertThat(a.priorityHeader()).isEqualTo(Queueing.DEFAULT_PRIORITY_HEADER);
        assertThat(a.tenantHeader()).isEqualTo(Queueing.DEFAULT_TENANT_HEADER);
        assertThat(a.policy(100).tenantCap()).isEqualTo(10);
        Queueing b = c.revisions().get(1).queueing();
        assertThat(b.classNames()).containsExactly("only");
        assertThat(b.tenantHeader()).isNull();
        assertThat(b.plain()).as("one class, no rules, no tenant header").isTrue();
    }

    @Test
    void everyProblemIsReportedWithItsField() {
        ConfigException e = failure("""
                revisions:
                  - name: a
                    timeouts: {total: 10s}
                    queueing:
                      classes: [hi, {name: lo, queueTimeout: 1m}, HI, "bad name"]
                      defaultClass: medium
                      priorityHeader: "no good"
                      rules: [{class: lo}, {pathPrefix: nope, class: mid}]
                      tenantWeights: {acme: 0}
                      tenantCap: 150%
                      preemption: maybe
                      colour: blue
                """);
        assertThat(e.getMessage()).contains(
                "revisions[0].queueing.colour: unknown field",
                "revisions[0].queueing.classes[1].queueTimeout: (1m) must not exceed timeouts.total (10s)",
                "revisions[0].queueing.classes[2]: class 'HI' is listed twice",
                "revisions[0].queueing.classes[3]: class name 'bad name' must be",
                "revisions[0].queueing.defaultClass: 'medium' is not one of the classes [hi, lo]",
                "revisions[0].queueing.priorityHeader: 'no good' is not a header name",
                "revisions[0].queueing.rules[0]: matches every request",
                "revisions[0].queueing.rules[1].pathPrefix: must start with '/'",
                "revisions[0].queueing.rules[1].class: 'mid' is not one of the classes",
                "revisions[0].queueing.tenantWeights.acme: must be a whole number from 1 to 1000",
                "revisions[0].queueing.tenantCap: must be a number of requests",
                "revisions[0].queueing.preemption: must be true or false");
        assertThat(e.getMessage()).startsWith("sluice.yaml");
    }

    @Test
    void aMissingClassListAndAnInheritedClassTimeoutPastARevisionsLifeAreRefused() {
        assertThat(failure("revisions: [{name: a, queueing: {tenantCap: 5}}]").getMessage())
                .contains("revisions[0].queueing.classes: missing");
        assertThat(failure("""
                queueing: {classes: [{name: slow, queueTimeout: 10m}]}
                revisions: [{name: a, timeouts: {total: 1m}}]
                """).getMessage()).contains("revisions[0].timeouts.total: class 'slow' of the top-level queueing"
                + " section may wait 10m");
    }

    @Test
    void aDiscoveredRevisionTakesTheTopLevelSectionAndItsTimeoutsAreCheckedAgainstItsAnnotations()
            throws ConfigException {
        SluiceConfig file = ConfigLoader.parse("sluice.yaml", """
                queueing: {classes: [{name: interactive, queueTimeout: 20s}, batch], tenantCap: 10}
                revisions: []
                """);
        assertThat(file.queueing().classNames()).containsExactly("interactive", "batch");
        ServiceRef svc = new ServiceRef("team", "fn", null);
        RevisionConfig r = ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                Map.of("containerConcurrency", "1")), file.queueing());
        assertThat(r.queueing()).isEqualTo(file.queueing());

        ConfigException shortLived = Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.revision(new DiscoveredRevision(new RevisionId("team", "fn-1"), svc,
                        Map.of("requestTimeout", "10s", "queueTimeout", "5s")), file.queueing()));
        assertThat(shortLived.getMessage()).startsWith("Service team/fn: sluice.dev/requestTimeout: class"
                + " 'interactive' of the top-level queueing section may wait 20s");
    }
}
