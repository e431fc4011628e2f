// Fuzzing the zip format path: 10,000+ mutated archives (bit flips, truncations, fields overwritten
// with boundary values) — stored, deflated and ZIP64. Each one opens and reads, or fails with a
// tagged error, in bounded memory, in both the isomorphic (fflate) and the Node (zlib) store.
import { readFile, writeFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isShardedStoreError } from "../../src/errors.js";
import type { AbsolutePath } from "../../src/types.js";
import { ZipStore as BrowserZipStore } from "../../src/zip-store.js";
import { ZipStore } from "../../src/zip-store-node.js";
import { craftZip, TIMESTAMP_EXTRA } from "../helpers/zip-craft.js";
import { tempDirPerFile, writeZip } from "../helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-fuzz-");
const RUNS = 10_000;

const SIGNATURES: Array<[number, number[]]> = [
  // signature, offsets of its numeric fields
  [0x04034b50, [4, 6, 8, 14, 18, 22, 26, 28]],
  [0x02014b50, [8, 10, 16, 20, 24, 28, 30, 32, 42, 46, 50, 54]],
  [0x06054b50, [8, 10, 12, 16, 20]],
  [0x06064b50, [4, 24, 32, 40, 48]],
  [0x07064b50, [8, 16]],
];

/** Offsets worth overwriting: every field of every record found. */
function fieldOffsets(bytes: Uint8Array): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= bytes.length; i++) {
    const sig = v.getUint32(i, true);
    for (const [s, fields] of SIGNATURES) if (s === sig) for (const f of fields) out.push(i + f);
  }
  return out;
}

const BOUNDARY: Record<2 | 4 | 8, bigint[]> = {
  2: [0n, 1n, 0x7fffn, 0xfffen, 0xffffn],
  4: [0n, 1n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn],
  8: [0n, 2n ** 32n, 2n ** 50n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n],
};

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; keep: number }
  | { kind: "field"; which: number; width: 2 | 4 | 8; value: number }
  | { kind: "byte"; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("truncate" as const), keep: fc.nat() }),
  fc.record({
    kind: fc.constant("field" as const),
    which: fc.nat(),
    width: fc.constantFrom(2 as const, 4 as const, 8 as const),
    value: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("field" as const),
    which: fc.nat(),
    width: fc.constant(4 as const),
    value: fc.nat(),
  }),
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(base: Uint8Array, fields: number[], ms: Mutation[]): Uint8Array {
  let b = base.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    if (m.kind === "flip") b[m.at % b.length]! ^= 1 << m.bit;
    else if (m.kind === "byte") b[m.at % b.length] = m.value;
    else if (m.kind === "truncate") b = b.slice(0, m.keep % b.length);
    else {
      const at = fields[m.which % fields.length]!;
      const values = BOUNDARY[m.width];
      const value = values[m.value % values.length]!;
      for (let i = 0; i < m.width && at + i < b.length; i++)
        b[at + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
  }
  return b;
}

/** Every read of `store` either works (values owning their bytes) or fails with a tagged, short error. */
async function exercise(store: BrowserZipStore, keys: readonly string[]): Promise<number> {
  let failures = 0;
  const check = (e: unknown) => {
    if (!isShardedStoreError(e)) throw new Error(`untagged error: ${String(e)}`);
    const m = (e as Error).message;
    if (/RangeError|ERR_|Array buffer allocation/.test(m) || m.length > 600)
      throw new Error(`bad message: ${m}`);
    failures++;
  };
  const listed: string[] = [];
  try {
    for await (const k of store.list()) if (listed.length < 8) listed.push(k);
  } catch (e) {
    check(e);
  }
  for (const k of new Set([...keys, ...listed])) {
    const key = k as AbsolutePath;
    for (const read of [
      () => store.get(key),
      () => store.getRange(key, { offset: 1, length: 3 }),
      () => store.getRange(key, { suffixLength: 2 }),
    ]) {
      try {
        const v = await read();
        if (v !== undefined && (v.byteOffset !== 0 || v.buffer.byteLength !== v.byteLength))
          throw new Error(`a value that does not own its bytes for ${key}`);
      } catch (e) {
        check(e);
      }
    }
  }
  await store.close();
  return failures;
}

async function bases(): Promise<Array<{ bytes: Uint8Array; keys: string[] }>> {
  const entries = {
    "zarr.json": '{"zarr_format":3,"node_type":"group"}',
    "a/c/0": new Uint8Array(300).map((_, i) => (i * 7) & 255),
    "a/c/1": new Uint8Array(40).fill(9),
    "b/.zattrs": "{}",
  };
  const keys = Object.keys(entries).map((k) => `/${k}`);
  await writeZip(`${tmp.dir}/stored.zip`, entries);
  await writeZip(`${tmp.dir}/deflated.zip`, entries, "deflate");
  const data = (s: string | Uint8Array) => (typeof s === "string" ? new TextEncoder().encode(s) : s);
  const crafted = Object.entries(entries).map(([name, v], i) => ({
    name,
    data: data(v),
    method: (i % 2 === 0 ? 8 : 0) as 0 | 8,
    zip64: [["offset"], ["size", "compressedSize", "offset"], ["size"], []][i] as Array<
      "size" | "compressedSize" | "offset"
    >,
    ...(i === 1 ? { extraBefore: TIMESTAMP_EXTRA } : {}),
  }));
  return [
    { bytes: new Uint8Array(await readFile(`${tmp.dir}/stored.zip`)), keys },
    { bytes: new Uint8Array(await readFile(`${tmp.dir}/deflated.zip`)), keys },
    {
      bytes: craftZip(crafted, { zip64End: true, countSentinel: true, offsetSentinel: true }),
      keys,
    },
    {
      bytes: craftZip(crafted.slice(0, 2), { comment: new TextEncoder().encode("PK\x05\x06 a comment") }),
      keys: keys.slice(0, 2),
    },
  ];
}

describe("zip fuzzing", () => {
  it(`${RUNS} mutated archives: each reads or fails with a tagged error, in bounded memory`, async () => {
    const all = await bases();
    // The unmutated bases read whole in both stores: the fuzzing starts from valid archives.
    for (const { bytes, keys } of all) {
      for (const z of [new BrowserZipStore(bytes), new ZipStore(bytes)]) {
        for (const k of keys) expect((await z.get(k as AbsolutePath))?.length).toBeGreaterThan(1);
      }
    }
    const fields = all.map((b) => fieldOffsets(b.bytes));
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    let runs = 0;
    let failed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: all.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (which, ms) => {
          const { bytes, keys } = all[which]!;
          const m = mutate(bytes, fields[which]!, ms);
          failed += await exercise(new BrowserZipStore(m), keys);
          failed += await exercise(new ZipStore(m), keys);
          if (runs % 10 === 0) {
            // Every tenth archive also as a file: the pooled, chunked read path.
            const file = `${tmp.dir}/m.zip`;
            await writeFile(file, m);
            failed += await exercise(new ZipStore(file), keys);
          }
          if (++runs % 250 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        },
      ),
      { numRuns: RUNS, seed: 20261127 },
    );
    expect(runs).toBeGreaterThanOrEqual(RUNS);
    // Most mutations break something, and some leave an archive that still reads.
    expect(failed).toBeGreaterThan(RUNS / 10);
    expect(peak - rss0).toBeLessThan(256 << 20);
  }, 300_000);
});
