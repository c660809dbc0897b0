package dev.sluice.scaler;

import dev.sluice.core.RevisionId;
import dev.sluice.scaler.proto.ScaledObjectRef;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * How a KEDA ScaledObject names what it scales and what it aims for: the rules of Sluice's
 * trigger metadata, one place. Stateless.
 *
 * <ul>
 *   <li>The revision: {@code scalerMetadata.revision} ({@code namespace/name}), else the
 *       ScaledObject's own namespace and name.</li>
 *   <li>The target per replica: {@code scalerMetadata.targetConcurrency} (a positive number),
 *       else the revision's containerConcurrency, or 1 when that is 0 (unlimited).</li>
 *   <li>The metric: {@code sluice_<namespace>_<name>_concurrency}, with what Kubernetes' metric
 *       names do not allow ({@code -}, {@code .}) written {@code _}.</li>
 * </ul>
 */
public final class ScaledObjects {

    public static final String REVISION = "revision";
    public static final String TARGET_CONCURRENCY = "targetConcurrency";

    private ScaledObjects() {
    }

    /**
     * The revision a ScaledObject scales.
     *
     * @throws StatusRuntimeException INVALID_ARGUMENT saying what is wrong with the reference
     */
    public static RevisionId revision(ScaledObjectRef ref) {
        String meta = ref.getScalerMetadataMap().get(REVISION);
        try {
            if (meta != null && !meta.isBlank()) {
                return RevisionId.parse(meta.trim());
            }
            return new RevisionId(ref.getNamespace(), ref.getName());
        } catch (IllegalArgumentException e) {
            String where = meta != null && !meta.isBlank() ? "scalerMetadata." + REVISION
                    : "the ScaledObject's namespace/name (no scalerMetadata." + REVISION + " given)";
            throw Status.INVALID_ARGUMENT.withDescription(where + ": " + e.getMessage()).asRuntimeException();
        }
    }

    /**
     * The demand one replica should carry.
     *
     * @throws StatusRuntimeException INVALID_ARGUMENT when {@code targetConcurrency} is not a positive number
     */
    public static double targetConcurrency(ScaledObjectRef ref, int containerConcurrency) {
        String text = ref.getScalerMetadataMap().get(TARGET_CONCURRENCY);
        if (text == null || text.isBlank()) {
            return containerConcurrency > 0 ? containerConcurrency : 1;
        }
        double v;
        try {
            v = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (!(v > 0) || Double.isInfinite(v)) {
            throw Status.INVALID_ARGUMENT.withDescription("scalerMetadata." + TARGET_CONCURRENCY
                    + " must be a positive number, was '" + text + "'").asRuntimeException();
        }
        return v;
    }

    /** The metric's name for a revision: {@code sluice_<ns>_<name>_concurrency}, KEDA-safe. */
    public static String metricName(RevisionId id) {
        return "sluice_" + safe(id.namespace()) + "_" + safe(id.name()) + "_concurrency";
    }

    private static String safe(String label) {
        return label.replace('-', '_').replace('.', '_');
    }
}
