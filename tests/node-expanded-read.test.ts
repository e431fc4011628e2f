// A big expanded config is read split (config/node-expanded-read.ts): its index stores' entries parsed
// one by one, packable ones kept as tuples. Split or not, a config must read as JSON.parse reads it
// (entries packed aside), fail where JSON.parse fails with the same error, and open the same
// composition, with the same errors for bad entries (confinement included).
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../src/config/node-expanded-read.js";
import { entryPacker, prePacked } from "../src/config/pack-entries.js";
import { setEntryPacker } from "../src/config/sharded-config.js";
import type { AbsolutePath, StoreConfig } from "../src/node.js";
import { v2Array } from "./helpers/metadata.js";
import { keptEntries, openPacked } from "./helpers/packing.js";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "ss-split-"));
});
afterAll(async () => {
  setEntryPacker(entryPacker);
  await rm(work, { recursive: true, force: true });
});

const enc = new TextEncoder();

/** The value parseConfigText gave, with the packed entries put back as their template says. */
function unpacked(value: unknown): unknown {
  const arrays = (value as StoreConfig)?.config?.kwargs?.array_shards as Record<
    string,
    Record<string, StoreConfig>
  >;
  if (arrays === undefined || typeof arrays !== "object") return value;
  for (const entries of Object.values(arrays)) {
    const pre = typeof entries === "object" && entries !== null ? prePacked.get(entries) : undefined;
    if (pre === undefined) continue;
    const suffix = pre.spec.kind === "zip" ? ".zarr.zip" : ".zarr";
    for (const t of pre.tuples) {
      const args = [...pre.template.config.args];
      args[0] = `${pre.spec.prefix}/${t.join(pre.spec.separator)}${suffix}`;
      entries[t.join(pre.sep)] = { ...pre.template, config: { ...pre.template.config, args } };
    }
  }
  return value;
}

/** Object members compared as sets (a packed entry put back lands at the end of its object). */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
  );
}

/** What parsing gives: the value (packed entries put back), or the error's class and message. */
function outcome(read: () => unknown): unknown {
  try {
    return { value: canonical(unpacked(read())) };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

interface Variant {
  i: number;
  j: number;
  kind: "plain" | "offPattern" | "extra" | "otherSep" | "escapedKey";
}

const dirEntry = (p: string, extra = false): StoreConfig =>
  ({
    name: "DirectoryStore",
    module: "zarr.storage",
    config: {
      args: [p],
      kwargs: extra ? { normalize_keys: true } : { normalize_keys: false, dimension_separator: "." },
      path_relative_to: "config_dir",
    },
    version: "2.13.6+ds",
  }) as StoreConfig;

/** A config text of one 2-D array listing the variants (factory declared or inferred), indented `indent`. */
function configText(variants: Variant[], declared: boolean, indent: number): string {
  const entries: string[] = [];
  for (const v of variants) {
    const sep = v.kind === "otherSep" ? "/" : ".";
    const key = v.kind === "escapedKey" ? `${v.i}\\u002e${v.j}` : `${v.i}${sep}${v.j}`;
    const p = v.kind === "offPattern" ? `elsewhere/${v.i}-${v.j}.zarr` : `shards/a/${v.i}/${v.j}.zarr`;
    entries.push(
      `${JSON.stringify(key).replace("\\\\u002e", "\\u002e")}: ${JSON.stringify(dirEntry(p, v.kind === "extra"), null, indent)}`,
    );
  }
  const kwargs: Record<string, unknown> = {
    dimension_separator: ".",
    shards: {},
    array_shard_dims: { a: 2 },
    array_shards: "@ENTRIES@",
  };
  if (declared)
    kwargs.array_shard_factories = { a: { kind: "directory", prefix: "shards/a", separator: "/" } };
  const top = {
    name: "ShardedStore",
    module: "shardedstore",
    config: { args: [dirEntry("base.zarr")], kwargs },
    version: "0.3.1",
  };
  return JSON.stringify(top, null, indent).replace('"@ENTRIES@"', `{ "a": {${entries.join(",\n")}} }`);
}

const variantsArb = fc.uniqueArray(
  fc.record({
    i: fc.nat(30),
    j: fc.nat(30),
    kind: fc.constantFrom("plain", "plain", "plain", "offPattern", "extra", "otherSep", "escapedKey"),
  }),
  { selector: (v) => `${v.i},${v.j}`, minLength: 1, maxLength: 30 },
) as fc.Arbitrary<Variant[]>;

describe("parseConfigText", () => {
  it("reads any JSON as JSON.parse does, and refuses what it refuses with the same error", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 1, 2), (v, indent) => {
        const text = JSON.stringify(v, null, indent) ?? "null";
        expect(outcome(() => parseConfigText(enc.encode(text), 0))).toEqual(outcome(() => JSON.parse(text)));
      }),
      { numRuns: 300 },
    );
  });

  it("reads configs as JSON.parse does, packed entries aside, and packs where it can", () => {
    fc.assert(
      fc.property(variantsArb, fc.boolean(), fc.constantFrom(0, 1, 2), (variants, declared, indent) => {
        const text = configText(variants, declared, indent);
        const split = parseConfigText(enc.encode(text), 0) as StoreConfig;
        const entries = (split.config.kwargs.array_shards as Record<string, object>).a!;
        const pre = prePacked.get(entries);
        // The first entry at the factory's path is the template; later ones with its separator and,
        // path aside, its config are packed; nothing else is.
        const sepOf = (v: Variant) => (v.kind === "otherSep" ? "/" : ".");
        const classOf = (v: Variant) => (v.kind === "extra" ? "extra" : "plain");
        const t = variants.findIndex((v) => v.kind !== "offPattern");
        // An inferred factory is the one the first entry's path shows (none when it is elsewhere).
        const expected =
          t === -1 || (!declared && t !== 0)
            ? 0
            : variants
                .slice(t + 1)
                .filter(
                  (v) =>
                    v.kind !== "offPattern" &&
                    sepOf(v) === sepOf(variants[t]!) &&
                    classOf(v) === classOf(variants[t]!),
                ).length;
        expect(pre?.tuples.length ?? 0).toBe(expected);
        expect(outcome(() => split)).toEqual(outcome(() => JSON.parse(text)));
      }),
      { numRuns: 300 },
    );
  });

  it("fails on a damaged config exactly as JSON.parse does (or reads it as JSON.parse does)", () => {
    fc.assert(
      fc.property(
        variantsArb,
        fc.nat(),
        fc.constantFrom("", ",", "}", "{", '"', "\\", ":", "]", "\u0001", "x"),
        (variants, at, insert) => {
          const good = configText(variants, true, 1);
          const cut = at % good.length;
          const text = `${good.slice(0, cut)}${insert}${good.slice(cut + (insert === "" ? 1 : 0))}`;
          expect(outcome(() => parseConfigText(enc.encode(text), 0))).toEqual(
            outcome(() => JSON.parse(text)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("keeps a byte-order mark, which JSON.parse refuses, as reading the file as text does", () => {
    const text = `\ufeff${configText(
      [
        { i: 0, j: 0, kind: "plain" },
        { i: 0, j: 1, kind: "plain" },
      ],
      true,
      1,
    )}`;
    expect(() => parseConfigText(enc.encode(text), 0)).toThrow(SyntaxError);
  });
});

/** A big expanded config (over the 1 MiB split threshold) of `n × n` index stores; those in `made` exist. */
async function bigComposition(
  folder: string,
  n: number,
  made: [number, number][],
  { declared = true, odd = false } = {},
): Promise<string> {
  await mkdir(path.join(folder, "base.zarr", "a"), { recursive: true });
  await writeFile(path.join(folder, "base.zarr", ".zgroup"), '{"zarr_format":2}');
  await writeFile(path.join(folder, "base.zarr", "a", ".zarray"), v2Array([n, n, 2], [1, 1, 2], "."));
  for (const [i, j] of made) {
    const s = path.join(folder, "shards", "a", String(i), `${j}.zarr`);
    await mkdir(s, { recursive: true });
    await writeFile(path.join(s, ".zarray"), v2Array([2], [2], "."));
    await writeFile(path.join(s, "0"), Uint8Array.of(i, j));
  }
  const variants: Variant[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) variants.push({ i, j, kind: "plain" });
  if (odd) variants[variants.length - 1]!.kind = "offPattern";
  const text = configText(variants, declared, 1);
  expect(text.length).toBeGreaterThan(1 << 20);
  const file = path.join(folder, "composition.json");
  await writeFile(file, text);
  return file;
}

describe("openShardedStore of a big expanded config", () => {
  it("keeps no entry per index store, and opens, reads and saves as the config read whole", async () => {
    const folder = path.join(work, "big");
    const file = await bigComposition(folder, 70, [
      [0, 0],
      [12, 34],
      [69, 69],
    ]);
    const split = await openPacked(file, true);
    // Without a packer the split entries are not taken, and the config is read again whole.
    const whole = await openPacked(file, false);
    expect(keptEntries(split)).toBe(0);
    expect(keptEntries(whole)).toBe(70 * 70);
    expect([...split.arrayMounts.get("a")!.knownIndices()].length).toBe(70 * 70);
    for (const [i, j] of [
      [0, 0],
      [12, 34],
      [69, 69],
      [5, 5],
    ] as const) {
      const key = `/a/${i}.${j}.0` as AbsolutePath;
      expect(await split.get(key)).toEqual(await whole.get(key));
    }
    expect(await split.get("/a/12.34.0" as AbsolutePath)).toEqual(Uint8Array.of(12, 34));
    for (const form of ["auto", "expanded", "compact"] as const)
      expect(split.toConfig({ form, relativeTo: folder })).toEqual(
        whole.toConfig({ form, relativeTo: folder }),
      );
    await split.close();
    await whole.close();
  });

  it("reads the Python original's config (factory inferred) packed, and one whose paths break the pattern whole", async () => {
    const inferred = await openPacked(
      await bigComposition(path.join(work, "inferred"), 70, [], { declared: false }),
      true,
    );
    expect(keptEntries(inferred)).toBe(0);
    expect([...inferred.arrayMounts.get("a")!.knownIndices()].length).toBe(70 * 70);
    await inferred.close();
    // The last entry lies elsewhere: no factory can be inferred, so nothing may be packed.
    const folder = path.join(work, "odd");
    const file = await bigComposition(folder, 70, [], { declared: false, odd: true });
    const odd = await openPacked(file, true);
    const whole = await openPacked(file, false);
    expect(keptEntries(odd)).toBe(70 * 70);
    expect(odd.toConfig({ relativeTo: folder })).toEqual(whole.toConfig({ relativeTo: folder }));
    await odd.close();
    await whole.close();
  });

  it("refuses a packed entry that leaves a confined folder through a link, naming it as before", async () => {
    const folder = path.join(work, "link");
    const file = await bigComposition(folder, 70, [[0, 0]]);
    const outside = path.join(work, "outside.zarr");
    await mkdir(outside, { recursive: true });
    await mkdir(path.join(folder, "shards", "a", "40"), { recursive: true });
    await symlink(outside, path.join(folder, "shards", "a", "40", "7.zarr"));
    const errorOf = async (pack: boolean) => {
      try {
        await openPacked(file, pack, { confine: true });
        return "opened";
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    };
    const packed = await errorOf(true);
    expect(packed).toMatch(/array_shards\.a\["40\.7"\]\.config\.args\[0\]/);
    expect(packed).toBe(await errorOf(false));
  });
});
