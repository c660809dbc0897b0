package dev.sluice.core.control;

import java.util.HashMap;

/**
 * One {@link Name} for each pod id and address a revision's reports name: the producers give a
 * report its address and id as the revision's one instance of each string, so the writer
 * compares them by reference, and each name keeps the revision's pending report that last
 * named it, which a later report of the same pod may join ({@code RevisionMailbox}, "Joining").
 *
 * <h2>Implementation notes</h2>
 * Not thread-safe: the mailbox calls it, and reads and writes {@link Name#pending}, under its
 * producers' lock only (the writer never touches it). The map is made on the first report (an
 * idle revision holds none) and replaced by an empty one when it holds {@link #MAX} names
 * (pods come and go; their names must not pile up). Losing the names is safe: a pending
 * report no name points to can no longer be joined, so the next report of its pod starts a
 * report of its own; the writer still compares with {@code equals}, so two instances of one
 * string cost a comparison, never a wrong answer.
 */
final class PodNames {

    static final int MAX = 8192;

    /** A pod id or an address, and the last report in the inbox that named it. */
    static final class Name {
        final String value;
        /** The last report posted that named this address or id (guarded by the producers' lock). */
        Object pending;

        Name(String value) {
            this.value = value;
        }
    }

    private HashMap<String, Name> names;

    /** The revision's one {@link Name} for {@code name}. */
    Name canonical(String name) {
        HashMap<String, Name> m = names;
        if (m == null) {
            m = new HashMap<>();
            names = m;
        }
        Name known = m.get(name);
        if (known != null) {
            return known;
        }
        if (m.size() >= MAX) {
            m = new HashMap<>();
            names = m;
        }
        Name made = new Name(name);
        m.put(name, made);
        return made;
    }
}
