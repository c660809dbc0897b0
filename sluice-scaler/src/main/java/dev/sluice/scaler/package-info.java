/**
 * KEDA's external scaler, served by Sluice: scale from zero pushed at the first queued request.
 *
 * <p>Start with {@link dev.sluice.scaler.ScalerService}, the gRPC service
 * ({@code externalscaler.ExternalScaler}, from {@code src/main/proto/externalscaler.proto});
 * {@link dev.sluice.scaler.ScaledObjects} holds the rules that map a ScaledObject to a revision,
 * a metric name and a target; {@link dev.sluice.scaler.ActivitySignals} decides and pushes
 * whether a revision is active, hearing of requests queued at zero pods through the
 * throttler's {@link dev.sluice.core.throttle.ZeroPodListener}; {@link dev.sluice.scaler.DemandSource}
 * is where the figures come from (one replica's throttler today, the owner replica's figure
 * with several). {@link dev.sluice.scaler.ScalerServer} binds it all to a port.
 */
package dev.sluice.scaler;
