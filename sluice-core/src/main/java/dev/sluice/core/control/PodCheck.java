package dev.sluice.core.control;

import java.util.Locale;

/**
 * What Sluice knows of one pod's readiness checks, for operators ({@code /v1/revisions}, the
 * 503 of a request that found no ready pod). Immutable; published by the revision's writer.
 *
 * @param podId      the identity the check is for
 * @param address    {@code host:port}
 * @param validating the pod claims to be ready but gets no slot until a check passes: a check
 *                   is running or a retry is scheduled
 * @param last       the last check's result
 * @param error      why the last check failed (e.g. {@code connection refused}); null unless
 *                   {@code last} is {@link Result#FAILED}
 * @param failures   failed checks in a row
 */
public record PodCheck(String podId, String address, boolean validating, Result last, String error, int failures) {

    /** A check's outcome; {@code NONE} while the first is still running. */
    public enum Result {
        NONE, PASSED, FAILED;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
