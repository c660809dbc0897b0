package dev.sluice.server.metrics;

/** What the proxy port reports about its clients, apart from their requests. Called from event loops. */
public interface ClientMetrics {

    /** Where a client was when it ran out of time; the wire name is the metric's {@code phase} label. */
    enum Phase {
        /** Its request head did not complete in time: 408 and close. */
        HEAD("head"),
        /** A kept-alive connection sent nothing in time: closed. */
        IDLE("idle"),
        /** Its request body stalled: 408 (or close), the pod's slot freed. */
        BODY("body");

        private final String wireName;

        Phase(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    ClientMetrics NONE = new ClientMetrics() {
        @Override
        public void clientTimeout(Phase phase) {
        }

        @Override
        public void connectionRefused() {
        }
    };

    void clientTimeout(Phase phase);

    /** A connection was refused: the cap on client connections was reached. */
    void connectionRefused();
}
