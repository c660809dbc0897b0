package dev.sluice.http1;

import java.nio.charset.StandardCharsets;

/**
 * What one head's {@code Content-Length} and {@code Transfer-Encoding} lines say (RFC 9112 §6),
 * read the same way in both directions, and how they are forwarded: canonical, so that the
 * next hop cannot frame the message otherwise than Sluice did. Several Content-Length lines,
 * or a list, with one value become one line with that value (RFC 9110 §8.6); values that
 * differ, or are not numbers, are refused. Transfer-Encoding is counted: lines, codings, and
 * how often {@code chunked} occurs and whether it is last; each framer decides from that what it
 * refuses. A Transfer-Encoding that is exactly {@code chunked} goes as it came; one that only
 * says so after list syntax ({@code , chunked}) is written as {@code transfer-encoding: chunked}.
 *
 * <h2>Implementation notes</h2>
 * One per framer, used on its connection's thread only; {@link #start} resets it for each
 * head, and it holds indexes into the {@link HeadLines} of that head's parse.
 */
final class FramingHeaders {

    static final byte[] CONTENT_LENGTH_LINE = "content-length: ".getBytes(StandardCharsets.US_ASCII);
    static final byte[] CHUNKED_LINE = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);

    /** What {@link #contentLength} makes of a line. */
    static final int FIRST = 1;
    static final int REPEAT = 0;
    static final int REFUSED = -1;

    /** The Content-Length, -1 if none. */
    long length;
    /** The first Content-Length line's value: where its first number's digits are. */
    private int digitsStart;
    private int digitsEnd;
    /** Whether the Content-Length is forwarded as its first line came (one line holding one number). */
    private boolean lengthAsIs;
    int codingLines;
    int codings;
    int chunkedCodings;
    boolean chunkedLast;
    private boolean codingAsIs;
    String error;

    void start() {
        length = -1;
        lengthAsIs = true;
        codingLines = 0;
        codings = 0;
        chunkedCodings = 0;
        chunkedLast = false;
        codingAsIs = false;
        error = null;
    }

    /** Reads Content-Length line {@code li}: {@link #FIRST}, a {@link #REPEAT} of the same value (drop it), or {@link #REFUSED} ({@link #error}). */
    int contentLength(HeadLines h, int li) {
        long v = h.contentLength(li);
        if (v == -1 || v == -2 || length >= 0 && v != length) {
            error = v == -1 ? "Content-Length is not a number" : "Content-Length values disagree";
            return REFUSED;
        }
        if (length >= 0) {
            lengthAsIs = false;
            return REPEAT;
        }
        length = v;
        byte[] b = h.bytes();
        int s = h.valueStart(li);
        int e = s;
        while (e < h.valueEnd(li) && Ascii.isDigit(b[e])) {
            e++;
        }
        digitsStart = s;
        digitsEnd = e;
        lengthAsIs = e == h.valueEnd(li);
        return FIRST;
    }

    /** Reads Transfer-Encoding line {@code li}. */
    void transferEncoding(HeadLines h, int li) {
        codingLines++;
        int n = h.splitList(li);
        for (int t = 0; t < n; t++) {
            chunkedLast = h.tokenIs(t, HeadLines.CHUNKED);
            if (chunkedLast) {
                chunkedCodings++;
            }
        }
        codings += n;
        codingAsIs = codingLines == 1 && n == 1 && chunkedLast && h.valueEnd(li) - h.valueStart(li) == 7;
    }

    /** Whether the codings are {@code chunked} alone, on one line. */
    boolean onlyChunked() {
        return codingLines == 1 && codings == 1 && chunkedLast;
    }

    /** Whether the Transfer-Encoding line can go as it came (else, being chunked alone, it is {@link #CHUNKED_LINE}). */
    boolean codingAsIs() {
        return codingAsIs;
    }

    /** Whether the first Content-Length line can go as it came; else {@link #CONTENT_LENGTH_LINE} and {@link #digitsStart}..{@link #digitsEnd} replace it. */
    boolean lengthAsIs() {
        return lengthAsIs;
    }

    int digitsStart() {
        return digitsStart;
    }

    int digitsEnd() {
        return digitsEnd;
    }
}
