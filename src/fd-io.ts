// Whole reads and writes on a file descriptor with direct system calls: a positional read or write
// may move fewer bytes than asked, and Node refuses a single one of 2 GiB or more.
import { readSync, writeSync } from "node:fs";

/** Node refuses a single read or write of 2 GiB or more: big ones go in pieces. */
export const IO_PIECE = 1 << 30;

/**
 * Fills `buf` from `fd` at `position`; a shorter view when the file ends first.
 *
 * @example
 * ```ts
 * const head = readFullySync(fd, new Uint8Array(22), 0);
 * ```
 */
export function readFullySync(fd: number, buf: Uint8Array, position: number): Uint8Array {
  let filled = 0;
  while (filled < buf.length) {
    const n = readSync(fd, buf, filled, Math.min(buf.length - filled, IO_PIECE), position + filled);
    if (n === 0) break;
    filled += n;
  }
  return filled === buf.length ? buf : buf.subarray(0, filled);
}

/**
 * Writes all of `bytes` to `fd` from offset 0.
 *
 * @example
 * ```ts
 * writeFullySync(openSync("out/a.zip", "wx"), bytes);
 * ```
 */
export function writeFullySync(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.byteLength; )
    done += writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, IO_PIECE), done);
}
