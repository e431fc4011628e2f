// Values own their bytes: every value a ZipStore returns is exactly its bytes (byteOffset 0, a buffer
// of its own length), whatever the source, compression, or range — zarrita's bytes codec and string
// decoder read `value.buffer` whole.
import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AbsolutePath } from "../src/types.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { ZipStore } from "../src/zip-store-node.js";
import { tempDirPerFile } from "./helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-values-");
let n = 0;

const owns = (v: Uint8Array | undefined) =>
  v !== undefined && v.byteOffset === 0 && v.buffer.byteLength === v.byteLength;

const entries = fc.dictionary(
  fc.stringMatching(/^[a-z]{1,6}(\/[a-z0-9]{1,4}){0,2}$/),
  fc.uint8Array({ minLength: 0, maxLength: 3000 }),
  { minKeys: 1, maxKeys: 8 },
);
const range = fc.oneof(
  fc.record({ offset: fc.nat({ max: 3100 }), length: fc.nat({ max: 3100 }) }),
  fc.record({ suffixLength: fc.nat({ max: 3100 }) }),
);

/** The bytes a range query selects (end clamped), computed independently of src/range.ts. */
function expected(
  v: Uint8Array,
  r: { offset: number; length: number } | { suffixLength: number },
): Uint8Array {
  if ("suffixLength" in r) return v.slice(Math.max(0, v.length - r.suffixLength));
  return v.slice(Math.min(r.offset, v.length), Math.min(v.length, r.offset + r.length));
}

describe("ZipStore values own their bytes", () => {
  it("get and getRange, from files, bytes and Blobs, stored and deflated, before and after close", async () => {
    await fc.assert(
      fc.asyncProperty(
        entries,
        fc.boolean(),
        fc.array(range, { minLength: 1, maxLength: 4 }),
        async (kv, deflate, ranges) => {
          // Names that are both a key and a prefix of another (a, a/b) are legal in a zip.
          const file = `${tmp.dir}/v-${n++}.zip`;
          const w = new ZipStore(file, { mode: "w", compression: deflate ? "deflate" : "store" });
          const keys = Object.keys(kv).map((k) => `/${k}` as AbsolutePath);
          await Promise.all(keys.map((k) => w.set(k, kv[k.slice(1)]!)));
          const stores = [w]; // the writer, reading its own session before close
          const check = async (s: BrowserZipStore) => {
            for (const k of keys) {
              const want = kv[k.slice(1)]!;
              const v = await s.get(k);
              expect(owns(v)).toBe(true);
              expect(Buffer.from(v!).equals(want)).toBe(true);
              for (const r of ranges) {
                const part = await s.getRange(k, r);
                expect(owns(part)).toBe(true);
                expect(Buffer.from(part!).equals(expected(want, r))).toBe(true);
              }
            }
          };
          for (const s of stores) await check(s);
          await w.close();
          const bytes = new Uint8Array(await readFile(file));
          const readers = [
            new ZipStore(file),
            new ZipStore(bytes),
            new BrowserZipStore(bytes),
            new BrowserZipStore(new Blob([bytes])),
            new BrowserZipStore(bytes.slice().buffer),
          ];
          for (const s of readers) {
            await check(s);
            await s.close();
          }
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  }, 120_000);
});
