package dev.sluice.server.proxy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.server.proxy.FrameWriterDifferential.Data;
import dev.sluice.server.proxy.FrameWriterDifferential.Headers;
import dev.sluice.server.proxy.FrameWriterDifferential.Op;
import dev.sluice.server.proxy.FrameWriterDifferential.Other;
import dev.sluice.server.proxy.FrameWriterDifferential.Setting;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing of {@link WholeFrameWriter} against Netty's writer (Jazzer): the input
 * is read as a run of operations (HEADERS with any field names and values, padding, priority;
 * DATA of any size; the other frames; the peer's settings, valid or not), each checked by
 * {@link FrameWriterDifferential}. {@code mvn verify} replays the checked-in corpus
 * ({@code src/test/resources/dev/sluice/server/proxy/WholeFrameWriterFuzzTestInputs/frames/}).
 * To fuzz for longer (here 10 minutes; the corpus grows in {@code sluice-server/.cifuzz-corpus/},
 * a finding lands in the inputs directory above):
 * <pre>
 * JAZZER_FUZZ=1 mvn -pl sluice-server -am test -Djcstress.skip -Dtest=WholeFrameWriterFuzzTest \
 *   -Dsurefire.failIfNoSpecifiedTests=false -Dunit.jvm.args= -Dsurefire.timeout=0 \
 *   -Djazzer.internal.arg.0=jazzer -Djazzer.internal.arg.1=-max_total_time=600
 * </pre>
 */
class WholeFrameWriterFuzzTest {

    @FuzzTest(maxDuration = "2m")
    void frames(FuzzedDataProvider in) {
        FrameWriterDifferential both = new FrameWriterDifferential();
        for (int i = 0; i < 64 && in.remainingBytes() > 0; i++) {
            both.check(op(in));
        }
        both.finish();
    }

    private static Op op(FuzzedDataProvider in) {
        return switch (in.consumeInt(0, 5)) {
            case 0, 1 -> {
                int stream = in.consumeInt(-1, 1 << 10);
                List<List<String>> fields = new ArrayList<>();
                for (int n = in.consumeInt(0, 12); n > 0; n--) {
                    fields.add(List.of(in.consumeAsciiString(40), in.consumeAsciiString(in.consumeInt(0, 40_000))));
                }
                yield new Headers(stream, fields, in.consumeBoolean() ? in.consumeInt(-1, 255) : 0, in.consumeBoolean(),
                        in.consumeBoolean());
            }
            case 2, 3 -> new Data(in.consumeInt(-1, 1 << 10), in.consumeInt(0, 40_000),
                    in.consumeBoolean() ? in.consumeInt(-1, 255) : 0, in.consumeBoolean());
            case 4 -> new Other(in.consumeInt(0, 3), in.consumeInt(-1, 1 << 10));
            default -> new Setting(in.consumeInt(0, 2), in.consumeLong(-1, 1L << 32));
        };
    }
}
