import { closeSync, read } from "node:fs";
import type { ServerResponse } from "node:http";
import type { BufferPool } from "./buffer-pool.js";

/** Values up to this many bytes are read in one go into a pooled buffer; longer ones are streamed. */
export const WHOLE_READ_LIMIT = 1 << 20;
/** Read size when streaming a long value to the socket. */
const STREAM_CHUNK = 1 << 20;

function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buf, offset, length, position, (e, n) => (e ? reject(e) : resolve(n))),
  );
}

/**
 * Closes a descriptor, ignoring errors (it was only read). Synchronously: closing a file opened for
 * reading does no I/O, and a thread-pool round trip per request costs more than the call.
 */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing was written through it
  }
}

/** Error for a file that became shorter than its `fstat` while it was read. */
export class ShrankError extends Error {}

/**
 * Sends bytes `[start, start + length)` of open file `fd` as the body of `res` (whose status and
 * headers, with `Content-Length: length`, are given) and closes `fd`. Short values are read whole
 * into a pooled buffer and sent with one write; long ones are read and written 1 MiB at a time,
 * waiting for the socket to drain, so the server never holds a whole large value. A file that shrank before its bytes were read throws
 * {@link ShrankError} with nothing sent; one that shrinks while streaming cuts the connection (the
 * client sees a short body, never wrong bytes as complete).
 *
 * @example
 * ```ts
 * await sendFileRange(res, 200, headers, fd, 0, size, pool);
 * ```
 */
export async function sendFileRange(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  fd: number,
  start: number,
  length: number,
  pool: BufferPool,
): Promise<void> {
  if (length <= WHOLE_READ_LIMIT) {
    let buf: Buffer;
    try {
      buf = pool.take(length);
      let filled = 0;
      while (filled < length) {
        const n = await readAt(fd, buf, filled, length - filled, start + filled);
        if (n === 0) break;
        filled += n;
      }
      if (filled !== length) {
        pool.give(buf);
        throw new ShrankError("the value changed while it was read");
      }
    } finally {
      closeQuietly(fd);
    }
    // The buffer goes back to the pool once the socket has taken every byte of it.
    res.once("finish", () => pool.give(buf));
    res.writeHead(status, headers);
    res.end(length === buf.byteLength ? buf : buf.subarray(0, length));
    return;
  }
  res.writeHead(status, headers);
  try {
    let sent = 0;
    while (sent < length) {
      const want = Math.min(STREAM_CHUNK, length - sent);
      const buf = pool.take(want);
      const n = await readAt(fd, buf, 0, want, start + sent);
      if (n === 0) throw new ShrankError("the value changed while it was sent");
      sent += n;
      const more = res.write(buf.subarray(0, n), (e) => {
        if (!e) pool.give(buf);
      });
      if (!more) await drained(res);
      if (res.destroyed) throw new ClosedError("the client went away");
    }
  } finally {
    closeQuietly(fd);
  }
  res.end();
}

/** Error for a response whose connection closed before its body was sent. */
export class ClosedError extends Error {}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * Sends `length` bytes read by `readPiece(offset, n)` (offsets from 0) as the body of `res`, 1 MiB
 * at a time, waiting for the socket to drain: a long value of a store that reads ranges (a stored
 * zip entry) is never held whole. A piece that comes back short cuts the connection.
 *
 * @example
 * ```ts
 * await sendPieces(res, 200, headers, size, (o, n) => store.getRange(key, { offset: o, length: n }));
 * ```
 */
export async function sendPieces(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  length: number,
  readPiece: (offset: number, length: number) => Promise<Uint8Array | undefined>,
): Promise<void> {
  res.writeHead(status, headers);
  let sent = 0;
  while (sent < length) {
    const want = Math.min(STREAM_CHUNK, length - sent);
    const piece = await readPiece(sent, want);
    if (piece === undefined || piece.byteLength !== want)
      throw new ShrankError("the value changed while it was sent");
    sent += want;
    if (!res.write(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength))) await drained(res);
    if (res.destroyed) throw new ClosedError("the client went away");
  }
  res.end();
}
