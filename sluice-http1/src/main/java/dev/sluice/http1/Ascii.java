package dev.sluice.http1;

import io.netty.util.AsciiString;

/** The byte-level tests both directions' parsers share (RFC 9110 §5.6 tokens, field values, lists). */
final class Ascii {

    private Ascii() {
    }

    /** "42", or a list of identical values "42, 42" (RFC 9110 §8.6); -1 not a number, -2 values differ. */
    static long contentLength(byte[] b, int vs, int ve) {
        long value = -1;
        long cur = -1;
        int digits = 0;
        for (int i = vs; i <= ve; i++) {
            int c = i == ve ? ',' : b[i];
            if (c >= '0' && c <= '9') {
                if (++digits > 18) {
                    return -1;
                }
                cur = (cur < 0 ? 0 : cur * 10) + (c - '0');
            } else if (c == ',') {
                if (cur < 0) {
                    return -1;
                }
                if (value >= 0 && value != cur) {
                    return -2;
                }
                value = cur;
                cur = -1;
                digits = 0;
            } else if (c != ' ' && c != '\t' || cur >= 0 && i + 1 < ve && isDigit(b[i + 1])) {
                return -1;
            }
        }
        return value;
    }


    static int indexOf(byte[] b, int from, int to, byte value) {
        for (int i = from; i < to; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }

    static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    static boolean isOws(byte c) {
        return c == ' ' || c == '\t';
    }

    /** field-value and reason-phrase bytes: HTAB, SP, VCHAR, obs-text. */
    static boolean validText(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xff;
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    static boolean isTokenChar(byte c) {
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
            return true;
        }
        return switch (c) {
            case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' -> true;
            default -> false;
        };
    }

    static boolean startsWith(byte[] b, int at, String s) {
        for (int i = 0; i < s.length(); i++) {
            if (b[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Whether b[start, start + len) is {@code lower} in any case ({@code lower} is lower-case ASCII). */
    static boolean equalsIgnoreCase(byte[] b, int start, int len, AsciiString lower) {
        if (len != lower.length()) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            int c = b[start + i];
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (c != lower.byteAt(i)) {
                return false;
            }
        }
        return true;
    }

    static boolean regionEqualsIgnoreCase(byte[] b, int a, int c, int len) {
        for (int i = 0; i < len; i++) {
            int x = b[a + i];
            int y = b[c + i];
            if (x >= 'A' && x <= 'Z') {
                x += 32;
            }
            if (y >= 'A' && y <= 'Z') {
                y += 32;
            }
            if (x != y) {
                return false;
            }
        }
        return true;
    }
}
