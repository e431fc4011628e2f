// Node packs an expanded config's entries that are exactly its factory's index stores (kept as
// index boxes, opened as their entries say on first use). Packing must change nothing a user can
// see: for random mixes of packable and unpackable entries, directories and zips, read-only and
// appendable, a composition opened with packing reads, saves and writes exactly as one opened
// without it — and keeps no entry per packed index store.
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AbsolutePath, type ShardedStore, type StoreConfig, ZipStore } from "../src/node.js";
import { v2Array } from "./helpers/metadata.js";
import { keptEntries, openPacked } from "./helpers/packing.js";
import { tempDirPerFile } from "./helpers/zip-fixtures.js";

// Each open sets the entry packer and puts it back itself (helpers/packing.ts).
const tmp = tempDirPerFile("ss-pack-");

/** How one index store is listed: at the factory's path or elsewhere, plain or with an extra kwarg. */
interface Entry {
  i: number;
  j: number;
  offPattern: boolean;
  extra: boolean;
  appendable: boolean;
}

/** Writes index stores and a config listing them (factory declared), returns the config's path. */
async function build(folder: string, kind: "zip" | "directory", entries: Entry[]): Promise<string> {
  await mkdir(path.join(folder, "base.zarr", "a"), { recursive: true });
  await writeFile(path.join(folder, "base.zarr", ".zgroup"), '{"zarr_format":2}');
  await writeFile(path.join(folder, "base.zarr", "a", ".zarray"), v2Array([4, 5, 2], [1, 1, 2], "."));
  const listed: Record<string, StoreConfig> = {};
  const suffix = kind === "zip" ? ".zarr.zip" : ".zarr";
  for (const e of entries) {
    const rel = e.offPattern ? `other/${e.i}_${e.j}${suffix}` : `a/${e.i}/${e.j}${suffix}`;
    const abs = path.join(folder, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    const sub = v2Array([2], [2], ".");
    const chunk = Uint8Array.of(e.i, e.j);
    if (kind === "zip") {
      const z = new ZipStore(abs, { mode: "w" });
      await z.set("/.zarray" as AbsolutePath, sub);
      await z.set("/0" as AbsolutePath, chunk);
      await z.close();
    } else {
      await mkdir(abs, { recursive: true });
      await writeFile(path.join(abs, ".zarray"), sub);
      await writeFile(path.join(abs, "0"), chunk);
    }
    const config: StoreConfig["config"] =
      kind === "zip"
        ? { args: [rel], kwargs: { mode: "r" } }
        : { args: [rel], kwargs: e.extra ? { normalize_keys: false } : {} };
    if (kind === "zip" && e.appendable) config.shardedstore = { mode: "a" };
    if (kind === "zip" && e.extra) (config.kwargs as Record<string, unknown>).allowZip64 = true;
    listed[`${e.i}.${e.j}`] = {
      name: kind === "zip" ? "ZipStore" : "DirectoryStore",
      module: "zarr.storage",
      config,
    };
  }
  const composition: StoreConfig = {
    name: "ShardedStore",
    module: "shardedstore",
    config: {
      args: [{ name: "DirectoryStore", module: "zarr.storage", config: { args: ["base.zarr"], kwargs: {} } }],
      kwargs: {
        dimension_separator: ".",
        array_shard_dims: { a: 2 },
        array_shards: { a: listed },
        array_shard_factories: { a: { kind, prefix: "a", separator: "/" } },
      },
    },
  };
  const file = path.join(folder, "composition.json");
  await writeFile(file, JSON.stringify(composition));
  return file;
}

/** What a write does: "ok", or the error's name and message with the folder taken out. */
async function attempt(s: ShardedStore, key: string, folder: string): Promise<string> {
  try {
    await s.set(key as AbsolutePath, Uint8Array.of(7, 7));
    return "ok";
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message.split(folder).join("<dir>")}`;
  }
}

const entryArb = fc
  .uniqueArray(
    fc.record({
      i: fc.nat(3),
      j: fc.nat(4),
      offPattern: fc.boolean(),
      extra: fc.boolean(),
      appendable: fc.boolean(),
    }),
    { selector: (e) => `${e.i},${e.j}`, minLength: 1, maxLength: 8 },
  )
  .map((es) => es as Entry[]);

describe("packed expanded entries", () => {
  it("read, save and write exactly as entries kept one by one, and keep no entry per packed store", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("zip" as const, "directory" as const),
        entryArb,
        async (kind, entries) => {
          const one = path.join(tmp.dir, `p${run}`);
          const two = path.join(tmp.dir, `u${run++}`);
          await build(one, kind, entries);
          await cp(one, two, { recursive: true });
          const packed = await openPacked(path.join(one, "composition.json"), true);
          const plain = await openPacked(path.join(two, "composition.json"), false);
          try {
            // Without packing every entry is kept; with it, only those that cannot be packed (at least
            // the first entry at the factory's path is always packed).
            expect(keptEntries(plain)).toBe(entries.length);
            const packable = entries.some((e) => !e.offPattern);
            if (packable) expect(keptEntries(packed)).toBeLessThan(entries.length);
            // Every chunk reads the same (listed ones their values, the rest nothing).
            for (const e of entries)
              expect(await packed.get(`/a/${e.i}.${e.j}.0` as AbsolutePath)).toEqual(Uint8Array.of(e.i, e.j));
            for (let i = 0; i < 4; i++)
              for (let j = 0; j < 5; j++)
                for (const c of [0, 1]) {
                  const key = `/a/${i}.${j}.${c}` as AbsolutePath;
                  expect(await packed.get(key)).toEqual(await plain.get(key));
                }
            // Saved in every form, the two configs are the same.
            for (const form of ["auto", "expanded", "compact"] as const)
              expect(packed.toConfig({ form, relativeTo: one })).toEqual(
                plain.toConfig({ form, relativeTo: two }),
              );
            // A write into each listed index store, and into a new one, does the same in both.
            for (const e of [...entries, { i: 3, j: 4 }]) {
              const key = `/a/${e.i}.${e.j}.0`;
              const a = await attempt(packed, key, one);
              const b = await attempt(plain, key, two);
              expect(a.replace(one, "")).toBe(b.replace(two, ""));
              expect(await packed.get(key as AbsolutePath)).toEqual(await plain.get(key as AbsolutePath));
            }
            await packed.close();
            await plain.close();
            // What was written on disk is the same too.
            for (const e of entries.filter((x) => !x.offPattern && kind === "directory"))
              expect(await readFile(path.join(one, `a/${e.i}/${e.j}.zarr/0`))).toEqual(
                await readFile(path.join(two, `a/${e.i}/${e.j}.zarr/0`)),
              );
          } finally {
            await packed.close();
            await plain.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  }, 120_000);

  it("keeps a packed read-only zip read-only, makes new ones appendable, and keeps entries off the factory's paths", async () => {
    const folder = path.join(tmp.dir, "ro");
    const file = await build(folder, "zip", [
      { i: 0, j: 0, offPattern: false, extra: false, appendable: false },
      { i: 1, j: 2, offPattern: false, extra: false, appendable: false },
    ]);
    const s = await openPacked(file, true);
    expect(keptEntries(s)).toBe(0);
    expect(await s.get("/a/1.2.0" as AbsolutePath)).toEqual(Uint8Array.of(1, 2));
    await expect(s.set("/a/1.2.0" as AbsolutePath, Uint8Array.of(1, 1))).rejects.toThrow(
      /read-only|not writable/i,
    );
    // The factory's own zips (a new index store) are still made for appending.
    await s.set("/a/3.3.0" as AbsolutePath, Uint8Array.of(3, 3));
    expect(await s.get("/a/3.3.0" as AbsolutePath)).toEqual(Uint8Array.of(3, 3));
    const saved = s.toConfig({ relativeTo: folder }) as StoreConfig;
    const listed = (saved.config.kwargs.array_shards as Record<string, Record<string, StoreConfig>>).a!;
    expect(Object.keys(listed).sort()).toEqual(["0.0", "1.2", "3.3"]);
    expect(listed["1.2"]!.config.shardedstore).toBeUndefined();
    expect(listed["3.3"]!.config.shardedstore).toEqual({ mode: "a" });
    await s.close();
    const off = path.join(tmp.dir, "off");
    const s2 = await openPacked(
      await build(off, "directory", [{ i: 0, j: 1, offPattern: true, extra: false, appendable: false }]),
      true,
    );
    expect(keptEntries(s2)).toBe(1);
    await s2.close();
  });
});
