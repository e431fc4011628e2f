// ShardedStore against a model: after any sequence of reads, writes, metadata changes (resize, v2/v3,
// separators, deletion), route look-ups and listings through one long-lived composition, every key
// reads and lists exactly as in a composition built fresh over the same stores. Whatever the store
// remembers (routes, the array's layout, which index stores are ready) must never go stale; the
// fresh composition knows nothing and reads the metadata before routing. Checked for compositions
// started over existing data (metadata not read yet) and over empty stores.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryStore, ShardedStore } from "../src/index.js";
import type { AbsolutePath } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";
import { v2Array, v3Array } from "./helpers/metadata.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** The stores behind a composition: base, one group shard, index stores by index. */
function world() {
  const base = new MemoryStore();
  const group = new MemoryStore();
  const index = new Map<string, MemoryStore>();
  const factory = ([i]: readonly number[]) => {
    let s = index.get(String(i));
    if (s === undefined) {
      s = new MemoryStore();
      index.set(String(i), s);
    }
    return s;
  };
  const compose = () =>
    new ShardedStore(base, { shards: { g: group }, arrayShards: { arr: { dims: 1, factory } } });
  /** A fresh composition, as a user opens one: nothing read yet (list() reads array metadata itself). */
  const composeFresh = async () => compose();
  return { base, compose, composeFresh };
}

type Meta = { format: "v3" | "v2." | "v2/"; rows: number };
const metaDoc = ({ format, rows }: Meta): [AbsolutePath, Uint8Array] =>
  format === "v3"
    ? ["/arr/zarr.json", v3Array([rows, 2], [1, 2])]
    : ["/arr/.zarray", v2Array([rows, 2], [1, 2], format === "v2." ? "." : "/")];

const row = fc.integer({ min: 0, max: 4 });
/** Keys that are chunks under one metadata and base keys (or other chunks) under another. */
const key = fc.oneof(
  row.map((r) => `/arr/c/${r}/0`),
  row.map((r) => `/arr/${r}.0`),
  row.map((r) => `/arr/${r}/0`),
  row.map((r) => `/arr/c/${r}`),
  row.map((r) => `/arr/c/${r}/0/0`),
  fc.constantFrom("/arr/zarr.json", "/arr/.zarray", "/arr/.zattrs", "/g/x", "/gx", "/x", "/arr2/c/0/0"),
) as fc.Arbitrary<AbsolutePath>;
const meta = fc.record({
  format: fc.constantFrom("v3", "v2.", "v2/"),
  rows: fc.integer({ min: 1, max: 5 }),
}) as fc.Arbitrary<Meta>;

type Op =
  | { op: "get" | "resolve" | "delete"; key: AbsolutePath }
  | { op: "set"; key: AbsolutePath; value: string }
  | { op: "meta"; meta: Meta }
  | { op: "dropMeta" }
  | { op: "list"; prefix: AbsolutePath };
const ops = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: key.map((k) => ({ op: "get" as const, key: k })) },
    { weight: 3, arbitrary: key.map((k) => ({ op: "resolve" as const, key: k })) },
    {
      weight: 4,
      arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 99 })).map(([k, n]) => ({
        op: "set" as const,
        key: k,
        value: `{"v":${n}}`,
      })),
    },
    { weight: 1, arbitrary: key.map((k) => ({ op: "delete" as const, key: k })) },
    { weight: 2, arbitrary: meta.map((m) => ({ op: "meta" as const, meta: m })) },
    { weight: 1, arbitrary: fc.constant({ op: "dropMeta" as const }) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom("/", "/arr", "/arr/c", "/arr/c/1", "/g", "/g/", "/gx", "/ar")
        .map((p) => ({ op: "list" as const, prefix: p as AbsolutePath })),
    },
  ) as fc.Arbitrary<Op>,
  { minLength: 1, maxLength: 25 },
);

/** Writing a key that is not valid for the current metadata may be refused; both stores must agree. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    const v = await p;
    return v instanceof Uint8Array ? `value ${text(v)}` : `ok ${String(v)}`;
  } catch (e) {
    return `error ${(e as Error).name}`;
  }
}

describe("a long-lived ShardedStore reads and lists as a fresh one over the same stores", () => {
  for (const start of ["over existing data", "over empty stores"] as const) {
    it(`${start}: any sequence of operations (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(meta, ops, fc.array(key, { maxLength: 6 }), async (initial, steps, probes) => {
          const w = world();
          if (start === "over existing data") {
            const seed = w.compose();
            const [k, doc] = metaDoc(initial);
            await seed.set(k, doc);
            for (let r = 0; r < initial.rows; r += 2)
              await seed.set(`/arr/c/${r}/0` as AbsolutePath, bytes(`r${r}`));
            await w.base.set("/arr/c/9/0", bytes("stray in the base"));
          }
          const s = w.compose();
          const check = async (k: AbsolutePath, why: string) =>
            expect(await outcome(s.get(k)), why).toBe(await outcome(w.compose().get(k)));
          for (const [n, step] of steps.entries()) {
            const why = `step ${n}: ${JSON.stringify(step)}`;
            switch (step.op) {
              case "get":
                await check(step.key, why);
                break;
              case "resolve":
                // Twice: a route is remembered on its second sight.
                for (let i = 0; i < 2; i++) await outcome(Promise.resolve().then(() => s.resolve(step.key)));
                break;
              case "set": {
                const got = await outcome(s.set(step.key, bytes(step.value)));
                if (got.startsWith("ok")) await check(step.key, why);
                break;
              }
              case "delete":
                await outcome(s.delete(step.key));
                await check(step.key, why);
                break;
              case "meta": {
                const [k, doc] = metaDoc(step.meta);
                for (const other of ["/arr/zarr.json", "/arr/.zarray"] as AbsolutePath[])
                  if (other !== k && (await w.base.get(other)) !== undefined) await s.delete(other);
                await s.set(k, doc);
                break;
              }
              case "dropMeta":
                for (const k of ["/arr/zarr.json", "/arr/.zarray"] as AbsolutePath[])
                  if ((await w.base.get(k)) !== undefined) await s.delete(k);
                break;
              case "list":
                expect(await listAll(s, step.prefix), why).toEqual(
                  await listAll(await w.composeFresh(), step.prefix),
                );
                break;
            }
          }
          for (const k of probes) await check(k, `probe ${k} after ${JSON.stringify(steps)}`);
          expect(await listAll(s)).toEqual(await listAll(await w.composeFresh()));
        }),
        { numRuns: 80 },
      );
    });
  }
});

describe("the cases the model found", () => {
  it("a fresh composition lists base keys that are not chunks of the array before anything read it", async () => {
    const w = world();
    await w.base.set("/arr/zarr.json", v3Array([2, 2], [1, 2]));
    await w.base.set("/arr/c/9/0", bytes("stray: row 9 is outside a 2-row grid"));
    expect(await listAll(w.compose())).toEqual(["/arr/c/9/0", "/arr/zarr.json"]);
  });

  it("deleting the other format's metadata document (.zarray of a v3 array) leaves the array as it was", async () => {
    const w = world();
    const s = w.compose();
    await s.set("/arr/zarr.json", v3Array([2, 2], [1, 2]));
    await s.set("/arr/c/1/0", bytes("row 1"));
    await s.delete("/arr/.zarray");
    expect(text(await s.get("/arr/c/1/0"))).toBe("row 1");
    expect(s.resolve("/arr/c/1/0").kind).toBe("array");
    expect(await listAll(s)).toEqual(await listAll(w.compose()));
  });
});
