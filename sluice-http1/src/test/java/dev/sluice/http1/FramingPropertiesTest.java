package dev.sluice.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The differential tier: generated and mutated HTTP/1.1 messages ({@link MessageGenerator}),
 * fed whole and cut at random places; whatever the framers forward must read, with an
 * independent strict parser ({@link StrictParser}), as the messages the framer saw
 * ({@link FramingOracle}), the same however the reads fall. Messages a framer must accept are
 * accepted, with their bodies intact.
 */
class FramingPropertiesTest {

    @Property(tries = 1500)
    void forwardedRequestsReadStrictlyAsTheFramerSawThem(@ForAll long seed) {
        MessageGenerator gen = new MessageGenerator(seed);
        MessageGenerator.Generated g = gen.requests();
        boolean mutated = seed % 3 == 0;
        byte[] wire = mutated ? gen.mutate(g.wire()) : g.wire();
        FramingOracle.RequestRun whole = FramingOracle.requests(wire, new int[0]);
        FramingOracle.RequestRun cut = FramingOracle.requests(wire, gen.cuts(wire.length));
        assertThat(cut.refusal()).as("the same however the reads fall").isEqualTo(whole.refusal());
        // A body refused midway may have been streamed in part: only whole messages compare.
        assertThat(completed(cut)).isEqualTo(completed(whole));
        if (whole.refusal() == null) {
            assertThat(cut.forwarded()).isEqualTo(whole.forwarded());
        }
        if (g.valid() && !mutated) {
            assertThat(whole.refusal()).as("a valid request refused:\n%s", FramingOracle.text(wire)).isNull();
            assertThat(whole.strict().messages).hasSameSizeAs(g.bodies());
            for (int i = 0; i < g.bodies().size(); i++) {
                assertThat(whole.strict().messages.get(i).body.toString(StandardCharsets.ISO_8859_1))
                        .as("body %d", i).isEqualTo(g.bodies().get(i));
            }
        }
    }

    @Property(tries = 1500)
    void forwardedResponsesReadStrictlyAsTheFramerSawThem(@ForAll long seed) {
        MessageGenerator gen = new MessageGenerator(seed);
        FramingOracle.Request req = FramingOracle.Request.of((int) (seed >>> 8) & 7); // never an upgrade
        MessageGenerator.Generated g = gen.response(req.head());
        boolean mutated = seed % 3 == 0;
        byte[] wire = mutated ? gen.mutate(g.wire()) : g.wire();
        FramingOracle.ResponseRun whole = FramingOracle.response(req, wire, new int[0]);
        FramingOracle.ResponseRun cut = FramingOracle.response(req, wire, gen.cuts(wire.length));
        assertThat(cut.events()).as("the same however the reads fall").isEqualTo(whole.events());
        if (whole.malformed() == null) {
            assertThat(cut.client()).isEqualTo(whole.client());
        }
        if (g.valid() && !mutated) {
            assertThat(whole.malformed()).as("a valid response refused:\n%s", FramingOracle.text(wire)).isNull();
            assertThat(whole.ended()).isTrue();
            StrictParser.Message last = whole.strict().messages.get(whole.strict().messages.size() - 1);
            assertThat(last.status()).isEqualTo(g.statuses().get(g.statuses().size() - 1));
            assertThat(last.body.toString(StandardCharsets.ISO_8859_1)).isEqualTo(g.bodies().get(0));
        }
    }

    /** The forwarded bytes of the messages the framer passed on whole. */
    static byte[] completed(FramingOracle.RequestRun run) {
        int n = 0;
        for (FramingOracle.SeenRequest s : run.seen()) {
            if (s.complete()) {
                n += s.length();
            }
        }
        return Arrays.copyOf(run.forwarded(), n);
    }
}
