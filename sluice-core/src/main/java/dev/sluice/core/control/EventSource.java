package dev.sluice.core.control;

/** Where a pod event came from. A pod's own report outranks discovery for that pod. */
public enum EventSource {
    /** Pushed by the pod itself (its lifecycle hooks). Authoritative for that pod. */
    POD,
    /** From discovery: static configuration or Kubernetes EndpointSlices. */
    DISCOVERY
}
