package dev.sluice.core.control;

import java.util.concurrent.ConcurrentHashMap;

/**
 * One instance of each pod id and address a revision's reports name, so its writer compares
 * them by reference: the producers (many threads) pay a lookup each, the one writer finds the
 * strings it keys its batch by equal at once and their hashes in a line it already holds.
 *
 * <h2>Implementation notes</h2>
 * Any thread. Only an optimisation: the writer still compares with {@code equals}, so two
 * instances of one name (a race when the map is first made or replaced) cost a comparison,
 * never a wrong answer. The map is made on the first report (an idle revision holds none) and
 * replaced by an empty one when it holds {@link #MAX} names (pods come and go; their names
 * must not pile up).
 */
final class PodNames {

    static final int MAX = 8192;

    private volatile ConcurrentHashMap<String, String> names;

    /** The instance of {@code name} this revision's reports share. */
    String canonical(String name) {
        ConcurrentHashMap<String, String> m = names;
        if (m == null) {
            m = new ConcurrentHashMap<>();
            names = m;
        }
        String known = m.get(name);
        if (known != null) {
            return known;
        }
        if (m.size() >= MAX) {
            m = new ConcurrentHashMap<>();
            names = m;
        }
        known = m.putIfAbsent(name, name);
        return known != null ? known : name;
    }
}
