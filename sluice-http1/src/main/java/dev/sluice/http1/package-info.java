/**
 * HTTP/1.1 framing for a proxy: where each message starts and ends, what may be forwarded, and
 * its canonical form on the way out. Depends on Netty's buffer alone; sluice-server puts it on
 * its connections.
 *
 * <p>Where to start: {@link dev.sluice.http1.RequestFramer} (a client's bytes into
 * {@link dev.sluice.http1.RequestHead}s, already rewritten for the pod, and
 * {@link dev.sluice.http1.RequestBody} parts) and {@link dev.sluice.http1.ResponseFramer} (a
 * pod's bytes into the client's, through its {@code Sink}). Both parse heads with
 * {@code HeadLines} and chunked bodies with {@code ChunkedBody}, so the two directions accept,
 * rewrite and refuse the same syntax.
 */
package dev.sluice.http1;
