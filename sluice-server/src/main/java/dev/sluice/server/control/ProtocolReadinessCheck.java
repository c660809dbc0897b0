package dev.sluice.server.control;

import dev.sluice.core.RevisionId;
import dev.sluice.core.control.ReadinessCheck;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * The readiness check that speaks each revision's protocol: {@link H2ReadinessCheck} for a
 * revision of h2c pods, the HTTP/1.1 one ({@link HttpReadinessCheck}) for the rest. Stateless;
 * called from the control path's writers.
 */
public final class ProtocolReadinessCheck implements ReadinessCheck {

    private final ReadinessCheck http1;
    private final ReadinessCheck h2c;
    private final Predicate<RevisionId> speaksH2c;

    public ProtocolReadinessCheck(ReadinessCheck http1, ReadinessCheck h2c, Predicate<RevisionId> speaksH2c) {
        this.http1 = http1;
        this.h2c = h2c;
        this.speaksH2c = speaksH2c;
    }

    @Override
    public CompletionStage<Boolean> check(RevisionId revision, String podId, String address) {
        return (speaksH2c.test(revision) ? h2c : http1).check(revision, podId, address);
    }
}
