import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import type { AbsolutePath } from "../../src/types.js";
import { ZipStore } from "../../src/zip-store-node.js";

/** `execFile` as a promise (stdout/stderr as strings). */
export const run = promisify(execFile);

/**
 * A temporary folder for one test file, made before its tests and removed after them.
 *
 * @example
 * ```ts
 * const tmp = tempDirPerFile("ss-zip-");
 * it("…", () => writeZip(`${tmp.dir}/a.zip`, { a: "1" }));
 * ```
 */
export function tempDirPerFile(prefix: string): { dir: string } {
  const box = { dir: "" };
  beforeAll(async () => {
    box.dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(box.dir, { recursive: true, force: true });
  });
  return box;
}

const encode = (v: string | Uint8Array) => (typeof v === "string" ? new TextEncoder().encode(v) : v);

/**
 * Writes a new zip with our Node `ZipStore` (entry name → text or bytes) and closes it.
 *
 * @example
 * ```ts
 * await writeZip("/tmp/a.zip", { "x/.zarray": "{}", "x/0": new Uint8Array([1]) }, "deflate");
 * ```
 */
export async function writeZip(
  file: string,
  entries: Record<string, string | Uint8Array>,
  compression: "store" | "deflate" = "store",
): Promise<void> {
  const z = new ZipStore(file, { mode: "w", compression });
  await Promise.all(Object.entries(entries).map(([k, v]) => z.set(`/${k}` as AbsolutePath, encode(v))));
  await z.close();
}

/**
 * Byte-for-byte equality that stays fast on megabytes (vitest's `toEqual` walks every element).
 *
 * @example
 * ```ts
 * expect(sameBytes(await store.get("/big"), big)).toBe(true);
 * ```
 */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/**
 * A Blob that records every slice taken of it (`[start, end)`), to check what a reader touched.
 *
 * @example
 * ```ts
 * const blob = new CountingBlob([bytes]);
 * await new ZipStore(blob).get("/a");
 * console.log(blob.slices);
 * ```
 */
export class CountingBlob extends Blob {
  readonly slices: Array<[number, number]> = [];
  override slice(start = 0, end = this.size, contentType?: string): Blob {
    this.slices.push([start, end]);
    return super.slice(start, end, contentType);
  }
  /** Total bytes sliced so far. */
  get bytesRead(): number {
    return this.slices.reduce((a, [s, e]) => a + (Math.min(e, this.size) - s), 0);
  }
}
