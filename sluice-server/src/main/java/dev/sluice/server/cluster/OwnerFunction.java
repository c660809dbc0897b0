package dev.sluice.server.cluster;

import java.nio.charset.StandardCharsets;
import java.util.Collection;

/**
 * Rendezvous (highest-random-weight) hashing: a revision is owned by the live replica whose
 * weight for it is highest. Every replica computes the same owner from the same set, whatever
 * order it lists them in; removing a replica moves only the revisions it owned; adding one
 * moves to it only those it now wins (about 1/N of them).
 *
 * <p>The weight is a 64-bit mix of two FNV-1a hashes (the revision's and the replica's UTF-8
 * bytes) through SplitMix64's finaliser: stable across JVMs and versions (no
 * {@link String#hashCode} or seeded hash), and well spread even for ids that differ in one
 * character. Ties, vanishingly rare, go to the smaller id, so they too are decided the same
 * everywhere.
 */
public final class OwnerFunction {

    private OwnerFunction() {
    }

    /** The owner of {@code revision} among {@code live}, or null when none is live. */
    public static Peer owner(String revision, Collection<Peer> live) {
        long rh = fnv(revision);
        Peer best = null;
        long bestWeight = 0;
        for (Peer p : live) {
            long w = weight(rh, fnv(p.id()));
            if (best == null || Long.compareUnsigned(w, bestWeight) > 0
                    || (w == bestWeight && p.id().compareTo(best.id()) < 0)) {
                best = p;
                bestWeight = w;
            }
        }
        return best;
    }

    /** The weight of replica {@code replicaId} for {@code revision} (compared unsigned). */
    public static long weight(String revision, String replicaId) {
        return weight(fnv(revision), fnv(replicaId));
    }

    private static long weight(long revisionHash, long replicaHash) {
        return mix(revisionHash ^ Long.rotateLeft(replicaHash * 0x9E3779B97F4A7C15L, 31));
    }

    private static long fnv(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
