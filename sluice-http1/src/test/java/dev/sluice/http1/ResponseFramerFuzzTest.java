package dev.sluice.http1;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of the response framer (Jazzer). The input's first byte describes
 * the request ({@link FramingOracle.Request#of}: HEAD, not kept alive, an HTTP/1.0 client, an
 * upgrade asked for; an ASCII digit {@code '0'} is a plain HTTP/1.1 GET), the rest is what the
 * pod sends. Fed whole and byte by byte, it must meet {@link FramingOracle}'s invariant, throw
 * nothing, and give the same result both ways. {@code mvn verify} replays the checked-in
 * corpus ({@code src/test/resources/dev/sluice/http1/ResponseFramerFuzzTestInputs/response/});
 * {@code sluice-http1/fuzz.sh} fuzzes for longer.
 */
class ResponseFramerFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void response(byte[] input) {
        if (input.length == 0) {
            return;
        }
        FramingOracle.Request req = FramingOracle.Request.of(input[0]);
        byte[] wire = Arrays.copyOfRange(input, 1, input.length);
        FramingOracle.ResponseRun whole = FramingOracle.response(req, wire, new int[0]);
        int[] every = new int[Math.max(0, Math.min(wire.length, 4096) - 1)];
        for (int i = 0; i < every.length; i++) {
            every[i] = i + 1;
        }
        FramingOracle.ResponseRun bytes = FramingOracle.response(req, wire, every);
        assertThat(bytes.events()).isEqualTo(whole.events());
        if (whole.malformed() == null) {
            assertThat(bytes.client()).isEqualTo(whole.client());
        }
    }
}
