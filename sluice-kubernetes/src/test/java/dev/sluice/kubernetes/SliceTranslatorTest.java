package dev.sluice.kubernetes;

import static dev.sluice.kubernetes.MockCluster.endpoint;
import static dev.sluice.kubernetes.MockCluster.ready;
import static dev.sluice.kubernetes.MockCluster.slice;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.control.Endpoint;
import dev.sluice.core.pod.PodState;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class SliceTranslatorTest {

    private static final ServiceRef SVC = new ServiceRef("ns", "fn", null);

    private static List<Endpoint> endpoints(ServiceRef svc, EndpointSlice... slices) {
        return SliceTranslator.translate(svc, List.of(slices)).endpoints();
    }

    @Test
    void conditionsMapToPodStates() {
        List<Endpoint> e = endpoints(SVC, slice("fn", "s", "IPv4", 80,
                endpoint("10.0.0.1", "u1", true, true, false),
                endpoint("10.0.0.2", "u2", false, false, false),
                endpoint("10.0.0.3", "u3", false, true, true),
                endpoint("10.0.0.4", "u4", false, false, true),
                endpoint("10.0.0.5", "u5", null, null, null)));
        assertThat(e).containsExactly(
                new Endpoint("u1", "10.0.0.1:80", PodState.READY),
                new Endpoint("u2", "10.0.0.2:80", PodState.NOT_READY),
                new Endpoint("u3", "10.0.0.3:80", PodState.DRAINING),
                new Endpoint("u4", "10.0.0.4:80", PodState.DRAINING),
                new Endpoint("u5", "10.0.0.5:80", PodState.READY));
    }

    @Test
    void aPodListedTwiceTakesTheMoreCautiousState() {
        List<Endpoint> e = endpoints(SVC, slice("fn", "a", "IPv4", 80, ready("10.0.0.1", "u1")),
                slice("fn", "b", "IPv4", 80, endpoint("10.0.0.1", "u1", false, false, false)));
        assertThat(e).containsExactly(new Endpoint("u1", "10.0.0.1:80", PodState.NOT_READY));
    }

    @Test
    void ipv6OnlyPodsAreBracketedAndDualStackPodsAppearOnce() {
        SliceView v = SliceTranslator.translate(SVC, List.of(
                slice("fn", "v6", "IPv6", 80, ready("fd00::1", "u1"), ready("fd00::2", "u2")),
                slice("fn", "v4", "IPv4", 80, ready("10.0.0.1", "u1"))));
        assertThat(v.endpoints()).containsExactly(new Endpoint("u1", "10.0.0.1:80", PodState.READY),
                new Endpoint("u2", "[fd00:0:0:0:0:0:0:2]:80", PodState.READY));
        assertThat(v.owns("u1", IpLiterals.canonical("fd00::1"))).isTrue();
        assertThat(v.owns("u1", "10.0.0.1")).isTrue();
        assertThat(v.owns("u2", "10.0.0.1")).isFalse();
    }

    @Test
    void portsAreChosenByNameOrNumberAndAmbiguityIsReported() {
        EndpointSlice twoPorts = new EndpointSliceBuilder(slice("fn", "s", "IPv4", 80, ready("10.0.0.1", "u1")))
                .addNewPort().withName("metrics").withPort(9090).withProtocol("TCP").endPort().build();
        assertThat(endpoints(new ServiceRef("ns", "fn", "metrics"), twoPorts)).extracting(Endpoint::address)
                .containsExactly("10.0.0.1:9090");
        assertThat(endpoints(new ServiceRef("ns", "fn", "80"), twoPorts)).extracting(Endpoint::address)
                .containsExactly("10.0.0.1:80");
        SliceView ambiguous = SliceTranslator.translate(SVC, List.of(twoPorts));
        assertThat(ambiguous.endpoints()).isEmpty();
        assertThat(ambiguous.problems()).singleElement().asString().contains("set service.port");
        assertThat(SliceTranslator.translate(new ServiceRef("ns", "fn", "grpc"), List.of(twoPorts)).problems())
                .singleElement().asString().contains("no port named or numbered 'grpc'");
    }

    @Test
    void endpointsWithoutAPodAreKeyedByAddressAndFqdnSlicesAreSkipped() {
        EndpointSlice manual = new EndpointSliceBuilder(slice("fn", "m", "IPv4", 80))
                .addToEndpoints(new EndpointBuilder().withAddresses("10.1.1.1").build()).build();
        EndpointSlice fqdn = slice("fn", "f", "FQDN", 80, ready("pods.example.com", "u9"));
        SliceView v = SliceTranslator.translate(SVC, List.of(manual, fqdn));
        assertThat(v.endpoints()).containsExactly(new Endpoint("10.1.1.1:80", "10.1.1.1:80", PodState.READY));
        assertThat(v.owners()).isEmpty();
        assertThat(v.problems()).singleElement().asString().contains("FQDN");
    }

    @Test
    void theRevisionPortsAppProtocolIsTheViewsWhenTheSlicesAgree() {
        EndpointSlice h2c = new EndpointSliceBuilder(slice("fn", "a", "IPv4", 80, ready("10.0.0.1", "u1")))
                .editFirstPort().withAppProtocol(RevisionCatalog.H2C_APP_PROTOCOL).endPort()
                .addNewPort().withName("metrics").withPort(9090).withProtocol("TCP").withAppProtocol("http").endPort()
                .build();
        EndpointSlice h2cToo = new EndpointSliceBuilder(slice("fn", "b", "IPv4", 80, ready("10.0.0.2", "u2")))
                .editFirstPort().withAppProtocol(RevisionCatalog.H2C_APP_PROTOCOL).endPort().build();
        ServiceRef http = new ServiceRef("ns", "fn", "http");
        assertThat(SliceTranslator.translate(http, List.of(h2c, h2cToo)).appProtocol())
                .isEqualTo(RevisionCatalog.H2C_APP_PROTOCOL);
        assertThat(SliceTranslator.translate(new ServiceRef("ns", "fn", "metrics"), List.of(h2c)).appProtocol())
                .as("the revision's port's, not another's").isEqualTo("http");
        SliceView none = SliceTranslator.translate(SVC, List.of(slice("fn", "c", "IPv4", 80, ready("10.0.0.3", "u3"))));
        assertThat(none.appProtocol()).isNull();
        assertThat(none.problems()).isEmpty();

        SliceView mixed = SliceTranslator.translate(http, List.of(h2c,
                slice("fn", "c", "IPv4", 80, ready("10.0.0.3", "u3"))));
        assertThat(mixed.appProtocol()).as("slices that disagree: none is taken").isNull();
        assertThat(mixed.endpoints()).hasSize(2);
        assertThat(mixed.problems()).singleElement().asString().contains("disagree on the port's appProtocol");

        SliceView withoutH2c = SliceTranslator.translate(http, List.of(h2cToo.edit().editFirstPort()
                .withAppProtocol(null).endPort().build()));
        assertThat(withoutH2c.differsFrom(SliceTranslator.translate(http, List.of(h2cToo))))
                .as("a change of appProtocol alone is a change").isTrue();
    }
}
