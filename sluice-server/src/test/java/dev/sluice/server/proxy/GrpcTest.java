package dev.sluice.server.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.server.metrics.Outcome;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.Test;

class GrpcTest {

    @Test
    void grpcTimeoutIsReadInEveryUnitAndRoundedDownToTwoDigitsOfMilliseconds() {
        assertThat(Grpc.timeoutNanos("300m")).isEqualTo(300_000_000L);
        assertThat(Grpc.timeoutNanos("1S")).isEqualTo(1_000_000_000L);
        assertThat(Grpc.timeoutNanos("2M")).isEqualTo(120_000_000_000L);
        assertThat(Grpc.timeoutNanos("1H")).isEqualTo(3_600_000_000_000L);
        assertThat(Grpc.timeoutNanos("9987654u")).as("9987 ms, at most 1% early").isEqualTo(9_900_000_000L);
        assertThat(Grpc.timeoutNanos("5n")).as("never under 1 ms").isEqualTo(1_000_000L);
        assertThat(Grpc.timeoutNanos("99999999H")).isPositive();
        for (String bad : new String[] {"", "m", "12", "1x", "-1S", "123456789S", "1.5S"}) {
            assertThat(Grpc.timeoutNanos(bad)).as(bad).isEqualTo(-1);
        }
    }

    @Test
    void sluicesAnswersMapToTheStatusAGrpcClientActsOn() {
        assertThat(Grpc.status(HttpResponseStatus.SERVICE_UNAVAILABLE, Outcome.QUEUE_FULL)).isEqualTo(Grpc.UNAVAILABLE);
        assertThat(Grpc.status(HttpResponseStatus.TOO_MANY_REQUESTS, Outcome.QUEUE_FULL))
                .isEqualTo(Grpc.RESOURCE_EXHAUSTED);
        assertThat(Grpc.status(HttpResponseStatus.SERVICE_UNAVAILABLE, Outcome.QUEUE_TIMEOUT))
                .isEqualTo(Grpc.UNAVAILABLE);
        assertThat(Grpc.status(HttpResponseStatus.SERVICE_UNAVAILABLE, Outcome.SHUTTING_DOWN))
                .isEqualTo(Grpc.UNAVAILABLE);
        assertThat(Grpc.status(HttpResponseStatus.GATEWAY_TIMEOUT, Outcome.REQUEST_TIMEOUT))
                .isEqualTo(Grpc.DEADLINE_EXCEEDED);
        assertThat(Grpc.status(HttpResponseStatus.NOT_FOUND, Outcome.UNKNOWN_REVISION)).isEqualTo(Grpc.UNIMPLEMENTED);
    }

    @Test
    void grpcMessageIsPercentEncoded() {
        assertThat(Grpc.percentEncode("queue 100% full: é")).isEqualTo("queue 100%25 full: %C3%A9");
    }
}
