package dev.sluice.http1;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The per-thread sharing of {@link HeadLines}: a parse nested in another gets its own. */
class HeadLinesTest {

    @Test
    void aThreadSharesOneInstanceAndANestedParseGetsItsOwn() {
        HeadLines outer = HeadLines.borrow();
        HeadLines nested = HeadLines.borrow();
        assertThat(nested).as("the thread's is in use").isNotSameAs(outer);
        nested.giveBack();
        outer.giveBack();
        HeadLines again = HeadLines.borrow();
        assertThat(again).as("given back, it is lent again").isSameAs(outer);
        again.giveBack();
    }
}
