package dev.sluice.core.pod;

/**
 * What a {@link PodTracker} tells the table that holds it, so that the tracker depends on this
 * small contract and not on {@link PodTable} itself: the table calls the tracker (reserve,
 * move, remove), the tracker only reports back through here. An abstract class rather than an
 * interface keeps the methods package-private; with one subclass the JIT binds the calls
 * directly, as before.
 */
abstract class SlotEvents {

    /** A reservation filled the tracker in {@code slot}. */
    abstract void onFilled(int slot);

    /** A release freed a slot on a full, routable tracker. */
    abstract void onFreed(int slot);

    /** The last request on a draining tracker ended. */
    abstract void onDrained(PodTracker tracker);
}
