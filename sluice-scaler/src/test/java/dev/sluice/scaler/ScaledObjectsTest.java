package dev.sluice.scaler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.core.RevisionId;
import dev.sluice.scaler.proto.ScaledObjectRef;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

/** The trigger metadata's rules: which revision, which target, which metric name. */
class ScaledObjectsTest {

    private static ScaledObjectRef ref(String ns, String name, String... meta) {
        ScaledObjectRef.Builder b = ScaledObjectRef.newBuilder().setNamespace(ns).setName(name);
        for (int i = 0; i < meta.length; i += 2) {
            b.putScalerMetadata(meta[i], meta[i + 1]);
        }
        return b.build();
    }

    @Test
    void theRevisionIsTheMetadataElseTheScaledObjectsOwnName() {
        assertThat(ScaledObjects.revision(ref("shop", "web", "revision", "shop/web-00002")))
                .isEqualTo(new RevisionId("shop", "web-00002"));
        assertThat(ScaledObjects.revision(ref("shop", "web"))).isEqualTo(new RevisionId("shop", "web"));
    }

    @Test
    void aMalformedRevisionIsInvalidArgumentNamingTheField() {
        assertThatThrownBy(() -> ScaledObjects.revision(ref("shop", "web", "revision", "web")))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
                .hasMessageContaining("scalerMetadata.revision").hasMessageContaining("namespace/name");
    }

    @Test
    void theTargetIsTheMetadataElseContainerConcurrencyElseOne() {
        assertThat(ScaledObjects.targetConcurrency(ref("a", "b", "targetConcurrency", "2.5"), 10)).isEqualTo(2.5);
        assertThat(ScaledObjects.targetConcurrency(ref("a", "b"), 10)).isEqualTo(10.0);
        assertThat(ScaledObjects.targetConcurrency(ref("a", "b"), 0)).isEqualTo(1.0);
        for (String bad : new String[] {"0", "-1", "many", "NaN", "Infinity"}) {
            assertThatThrownBy(() -> ScaledObjects.targetConcurrency(ref("a", "b", "targetConcurrency", bad), 1))
                    .hasMessageContaining("scalerMetadata.targetConcurrency must be a positive number")
                    .hasMessageContaining(bad);
        }
    }

    @Test
    void theMetricNameHasOnlyWhatKubernetesMetricNamesAllow() {
        assertThat(ScaledObjects.metricName(new RevisionId("my-shop", "web-00002")))
                .isEqualTo("sluice_my_shop_web_00002_concurrency");
    }
}
