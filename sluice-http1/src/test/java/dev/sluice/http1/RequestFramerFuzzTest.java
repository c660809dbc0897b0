package dev.sluice.http1;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzzing of the request framer (Jazzer): any bytes, fed whole and byte by
 * byte, must meet {@link FramingOracle}'s invariant (what is forwarded reads strictly as the
 * requests the framer saw; every buffer released), throw nothing, and give the same result
 * both ways. {@code mvn verify} replays the checked-in corpus
 * ({@code src/test/resources/dev/sluice/http1/RequestFramerFuzzTestInputs/requests/});
 * {@code sluice-http1/fuzz.sh} fuzzes for longer.
 */
class RequestFramerFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void requests(byte[] wire) {
        FramingOracle.RequestRun whole = FramingOracle.requests(wire, new int[0]);
        int[] every = new int[Math.max(0, Math.min(wire.length, 4096) - 1)];
        for (int i = 0; i < every.length; i++) {
            every[i] = i + 1;
        }
        FramingOracle.RequestRun bytes = FramingOracle.requests(wire, every);
        assertThat(bytes.refusal()).isEqualTo(whole.refusal());
        assertThat(FramingPropertiesTest.completed(bytes)).isEqualTo(FramingPropertiesTest.completed(whole));
        if (whole.refusal() == null) {
            assertThat(bytes.forwarded()).isEqualTo(whole.forwarded());
        }
    }
}
