package dev.sluice.scaler;

import dev.sluice.core.RevisionId;
import dev.sluice.scaler.proto.ExternalScalerGrpc;
import dev.sluice.scaler.proto.GetMetricSpecResponse;
import dev.sluice.scaler.proto.GetMetricsRequest;
import dev.sluice.scaler.proto.GetMetricsResponse;
import dev.sluice.scaler.proto.IsActiveResponse;
import dev.sluice.scaler.proto.MetricSpec;
import dev.sluice.scaler.proto.MetricValue;
import dev.sluice.scaler.proto.ScaledObjectRef;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Objects;

/**
 * KEDA's {@code externalscaler.ExternalScaler}, answered from Sluice's demand: which revision
 * a ScaledObject means and its target follow {@link ScaledObjects}; the metric is the
 * revision's queued + in-flight requests; activity and its pushes come from
 * {@link ActivitySignals}. A revision Sluice does not run is {@code NOT_FOUND}, with the reason;
 * a figure another replica has and cannot give now is {@code UNAVAILABLE}, with the reason.
 *
 * <p>Stateless apart from the open streams, which {@link ActivitySignals} holds; gRPC calls
 * it on its own threads.
 */
public final class ScalerService extends ExternalScalerGrpc.ExternalScalerImplBase {

    private static final IsActiveResponse ACTIVE = IsActiveResponse.newBuilder().setResult(true).build();
    private static final IsActiveResponse INACTIVE = IsActiveResponse.newBuilder().setResult(false).build();

    private final DemandSource demand;
    private final ActivitySignals signals;

    public ScalerService(DemandSource demand, ActivitySignals signals) {
        this.demand = Objects.requireNonNull(demand, "demand");
        this.signals = Objects.requireNonNull(signals, "signals");
    }

    @Override
    public void isActive(ScaledObjectRef ref, StreamObserver<IsActiveResponse> out) {
        answer(out, () -> {
            RevisionId id = running(ref).id();
            return signals.isActive(id) ? ACTIVE : INACTIVE;
        });
    }

    @Override
    public void streamIsActive(ScaledObjectRef ref, StreamObserver<IsActiveResponse> out) {
        ServerCallStreamObserver<IsActiveResponse> call = (ServerCallStreamObserver<IsActiveResponse>) out;
        ActivitySignals.Subscription sub;
        try {
            RevisionId id = running(ref).id();
            sub = signals.subscribe(id, active -> call.onNext(active ? ACTIVE : INACTIVE));
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (DemandUnavailable e) {
            out.onError(unavailable(e));
            return;
        }
        call.setOnCancelHandler(sub::close);
        if (call.isCancelled()) {
            sub.close();
        }
    }

    @Override
    public void getMetricSpec(ScaledObjectRef ref, StreamObserver<GetMetricSpecResponse> out) {
        answer(out, () -> {
            RevisionDemand d = running(ref);
            double target = ScaledObjects.targetConcurrency(ref, d.demand().containerConcurrency());
            return GetMetricSpecResponse.newBuilder().addMetricSpecs(MetricSpec.newBuilder()
                    .setMetricName(ScaledObjects.metricName(d.id()))
                    .setTargetSize((long) Math.ceil(target))
                    .setTargetSizeFloat(target)).build();
        });
    }

    @Override
    public void getMetrics(GetMetricsRequest req, StreamObserver<GetMetricsResponse> out) {
        answer(out, () -> {
            RevisionDemand d = running(req.getScaledObjectRef());
            String name = req.getMetricName().isEmpty() ? ScaledObjects.metricName(d.id()) : req.getMetricName();
            int value = d.demand().total();
            return GetMetricsResponse.newBuilder().addMetricValues(MetricValue.newBuilder()
                    .setMetricName(name).setMetricValue(value).setMetricValueFloat(value)).build();
        });
    }

    @Override
    public void streamMetricSpec(ScaledObjectRef ref, StreamObserver<GetMetricSpecResponse> out) {
        out.onError(Status.UNIMPLEMENTED.withDescription("Sluice's metric target does not change while a revision"
                + " runs: call GetMetricSpec").asRuntimeException());
    }

    /** The revision a reference means, running; else NOT_FOUND or INVALID_ARGUMENT. */
    private RevisionDemand running(ScaledObjectRef ref) {
        RevisionId id = ScaledObjects.revision(ref);
        RevisionDemand d = demand.find(id);
        if (d == null) {
            throw Status.NOT_FOUND.withDescription("Sluice runs no revision " + id
                    + (ref.getScalerMetadataMap().containsKey(ScaledObjects.REVISION)
                            ? " (from scalerMetadata." + ScaledObjects.REVISION + ")"
                            : " (the ScaledObject's namespace/name; set scalerMetadata." + ScaledObjects.REVISION
                                    + ": <namespace>/<name> to name another)")).asRuntimeException();
        }
        return d;
    }

    private static StatusRuntimeException unavailable(DemandUnavailable e) {
        return Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException();
    }

    private interface Answer<T> {
        T get();
    }

    private static <T> void answer(StreamObserver<T> out, Answer<T> answer) {
        T value;
        try {
            value = answer.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        } catch (DemandUnavailable e) {
            out.onError(unavailable(e));
            return;
        }
        out.onNext(value);
        out.onCompleted();
    }
}
