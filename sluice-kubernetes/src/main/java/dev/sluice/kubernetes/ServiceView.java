package dev.sluice.kubernetes;

import java.util.List;

/** What a {@link ServiceWatch} makes of a Service's EndpointSlices: a revision's pods, or Sluice's peers. */
interface ServiceView {

    /** Slices or endpoints left out, and why; logged when they change. */
    List<String> problems();

    /** Pods in the view, for logs and status. */
    int size();

    /** Whether this view says something {@code before} did not (what the watcher acts on differs). */
    boolean differsFrom(ServiceView before);
}
