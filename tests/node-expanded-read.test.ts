// A big expanded config is read split (config/node-expanded-read.ts): through a window of its bytes,
// its index stores' entries parsed one by one, packable ones kept as tuples. Split or not, through
// any window (down to one byte), a config must read as JSON.parse reads it (entries packed aside),
// fail where JSON.parse fails with the same error, and open the same composition, with the same
// errors for bad entries (confinement included); a big file is never held whole.
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shardedStoreFromConfig } from "../src/config/codec.js";
import {
  parseConfigText,
  readConfigFile,
  readStats,
  SPLIT_THRESHOLD,
  WINDOW,
} from "../src/config/node-expanded-read.js";
import { prePacked } from "../src/config/pack-entries.js";
import {
  type AbsolutePath,
  ConfigError,
  openShardedStore,
  type ShardedStore,
  type StoreConfig,
} from "../src/node.js";
import { v2Array } from "./helpers/metadata.js";
import { keptEntries, openPacked } from "./helpers/packing.js";
import { tempDirPerFile } from "./helpers/zip-fixtures.js";

// Each open sets the entry packer and puts it back itself (helpers/packing.ts).
const tmp = tempDirPerFile("ss-split-");

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

/** Windows of a few bytes (every member then straddles their ends), of a few hundred, and the default. */
const windowArb = fc.oneof(
  fc.constantFrom(1, 2, 7, 64),
  fc.integer({ min: 1, max: 600 }),
  fc.constant(WINDOW),
);

/** How many entries of array `a` parseConfigText packed (0 when it read the text whole). */
const packedOf = (value: unknown, array = "a"): number => {
  const entries = ((value as StoreConfig).config.kwargs.array_shards as Record<string, object>)[array];
  return entries === undefined ? 0 : (prePacked.get(entries)?.tuples.length ?? 0);
};

/** `a` reads `keys` as `b` does and saves the same config in every form. */
async function expectSame(a: ShardedStore, b: ShardedStore, keys: AbsolutePath[], folder: string) {
  for (const key of keys) expect(await a.get(key)).toEqual(await b.get(key));
  for (const form of ["auto", "expanded", "compact"] as const)
    expect(a.toConfig({ form, relativeTo: folder })).toEqual(b.toConfig({ form, relativeTo: folder }));
}

describe("parseConfigText", () => {
  it("reads any JSON as JSON.parse does, and refuses what it refuses with the same error", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(0, 1, 2), windowArb, (v, indent, window) => {
        const text = JSON.stringify(v, null, indent) ?? "null";
        expect(outcome(() => parseConfigText(enc.encode(text), 0, window))).toEqual(
          outcome(() => JSON.parse(text)),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("reads any keys and values in a config's array_shards as JSON.parse does, through any window", () => {
    // Keys with escapes, quotes and backslash runs (their ends straddle windows), any values.
    const key = fc.oneof(
      fc.string({ unit: "binary", maxLength: 6 }),
      fc.constantFrom("\\", '"', '\\"', "\\\\", "a\\"),
    );
    const value = fc.jsonValue({ maxDepth: 2 });
    // Ids that are no index (a repeated or mixed-length index makes the text be parsed whole).
    const entries = fc.dictionary(
      key.map((k) => `k${k}`),
      value,
      { maxKeys: 4 },
    );
    const arrays = fc.dictionary(key, fc.oneof(value, entries), { maxKeys: 5 });
    fc.assert(
      fc.property(arrays, value, fc.constantFrom(0, 1, 2), windowArb, (others, other, indent, window) => {
        const spec = { kind: "directory", prefix: "shards/a", separator: "/" };
        // Array "a" always lists two index stores its factory makes: the second is packed if split.
        const a = { "0.0": dirEntry("shards/a/0/0.zarr"), "0.1": dirEntry("shards/a/0/1.zarr") };
        const config = {
          name: "ShardedStore",
          extra: other,
          config: {
            args: [other],
            kwargs: {
              before: other,
              array_shards: { ...others, a },
              array_shard_factories: Object.fromEntries([...Object.keys(others), "a"].map((k) => [k, spec])),
              after: other,
            },
          },
          module: "shardedstore",
        };
        const text = JSON.stringify(config, null, indent);
        const split = parseConfigText(enc.encode(text), 0, window);
        // Split (so packed) unless an array is named "__proto__" (left to JSON.parse).
        expect(packedOf(split)).toBe(Object.hasOwn(others, "__proto__") ? 0 : 1);
        expect(outcome(() => split)).toEqual(outcome(() => JSON.parse(text)));
      }),
      { numRuns: 300 },
    );
  });

  it("reads configs as JSON.parse does, packed entries aside, and packs where it can", () => {
    fc.assert(
      fc.property(
        variantsArb,
        fc.boolean(),
        fc.constantFrom(0, 1, 2),
        windowArb,
        (variants, declared, indent, window) => {
          const text = configText(variants, declared, indent);
          const split = parseConfigText(enc.encode(text), 0, window) as StoreConfig;
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
        },
      ),
      { numRuns: 300 },
    );
  });

  it("fails on a damaged config exactly as JSON.parse does (or reads it as JSON.parse does)", () => {
    fc.assert(
      fc.property(
        variantsArb,
        fc.nat(),
        fc.constantFrom("", ",", "}", "{", '"', "\\", ":", "]", "\u0001", "x", " ", "5"),
        windowArb,
        (variants, at, insert, window) => {
          const good = configText(variants, true, 1);
          const cut = at % good.length;
          const text = `${good.slice(0, cut)}${insert}${good.slice(cut + (insert === "" ? 1 : 0))}`;
          expect(outcome(() => parseConfigText(enc.encode(text), 0, window))).toEqual(
            outcome(() => JSON.parse(text)),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("reads a config through every window from 1 byte to its length, splitting it each time", () => {
    // Numbers, whitespace runs, escaped keys, strings ending in backslash runs and brackets in strings
    // all land on a window's end with one window or another.
    const e = (p: string) => JSON.stringify(dirEntry(p));
    const text = ` \n{ "name" : "ShardedStore","module":"shardedstore", "s": "x\\"y\\\\",
 "config": {"args": [ {"n": -12.5e+3, "t": true, "z": null, "q": "\\\\"}], "kwargs" : { "k\\u0041": 1234567890,
  "array_shard_dims": {"a": 2}, "array_shards"  :  { "n": 123456789 , "s": "a\\\\\\\\", "a": {
  "0.0": ${e("shards/a/0/0.zarr")} ,"0.1":${e("shards/a/0/1.zarr")},   "0\\u002e2": ${e("shards/a/0/2.zarr")},
  "1.0":${e("shards/a/1/0.zarr")}, "x\\\\": [1, "]", {"}": "{\\""}], "1.1":17}, "e": {}, "w":   -0.5 },
  "array_shard_factories": {"a": {"kind": "directory", "prefix": "shards/a", "separator": "/"}}}}, "tail": 42   }  
 `;
    const whole = outcome(() => JSON.parse(text));
    const bytes = enc.encode(text);
    for (let window = 1; window <= bytes.length + 1; window++) {
      const split = parseConfigText(bytes, 0, window);
      expect(packedOf(split), `window ${window}`).toBe(3); // 0.1, 0.2 (its key escaped) and 1.0
      expect(
        outcome(() => split),
        `window ${window}`,
      ).toEqual(whole);
    }
  });

  it("holds a window of a few entries, not the text: a window grows only for a member longer than half of it", () => {
    const variants: Variant[] = [];
    for (let i = 0; i < 30; i++) for (let j = 0; j < 30; j++) variants.push({ i, j, kind: "plain" });
    const text = configText(variants, true, 1);
    // What is read at once is a member (an entry, under 300 bytes, or a value outside array_shards)
    // or the text outside array_shards, read as one part.
    const entry = `"29.29": ${JSON.stringify(dirEntry("shards/a/29/29.zarr"), null, 1)}`;
    expect(entry.length).toBeLessThan(300);
    const rest = text.length - (text.lastIndexOf("}}") + 2 - text.indexOf('{ "a": {')) + 2;
    expect(rest).toBeLessThan(1000);
    for (const window of [1, 64, 512]) {
      Object.assign(readStats, { largest: 0, bytesRead: 0, whole: 0 });
      expect(packedOf(parseConfigText(enc.encode(text), 0, window))).toBe(30 * 30 - 1);
      expect(readStats.whole).toBe(0);
      expect(readStats.largest).toBeLessThanOrEqual(Math.max(window, 4 * 300, rest));
      expect(readStats.bytesRead).toBeGreaterThan(text.length);
      expect(readStats.bytesRead).toBeLessThan(2 * text.length + 4 * 300);
    }
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
  expect(text.length).toBeGreaterThan(SPLIT_THRESHOLD);
  const file = path.join(folder, "composition.json");
  await writeFile(file, text);
  return file;
}

describe("openShardedStore of a big expanded config", () => {
  it("keeps no entry per index store, and opens, reads and saves as the config read whole", async () => {
    const folder = path.join(tmp.dir, "big");
    const file = await bigComposition(folder, 70, [
      [0, 0],
      [12, 34],
      [69, 69],
    ]);
    const split = await openPacked(file, true);
    // Without a packer the split entries are not taken, and the config is read again whole.
    Object.assign(readStats, { largest: 0, bytesRead: 0, whole: 0 });
    const whole = await openPacked(file, false);
    expect(readStats.bytesRead).toBeGreaterThan(0);
    expect(readStats.whole).toBe(1);
    expect(keptEntries(split)).toBe(0);
    expect(keptEntries(whole)).toBe(70 * 70);
    expect([...split.arrayMounts.get("a")!.knownIndices()].length).toBe(70 * 70);
    for (const [i, j] of [
      [0, 0],
      [12, 34],
      [69, 69],
      [5, 5],
    ] as const) {
      await expectSame(split, whole, [`/a/${i}.${j}.0` as AbsolutePath], folder);
    }
    expect(await split.get("/a/12.34.0" as AbsolutePath)).toEqual(Uint8Array.of(12, 34));
    await split.close();
    await whole.close();
  });

  it("reads a big file through a window, never whole, into what its bytes split in memory give", async () => {
    const folder = path.join(tmp.dir, "window");
    const file = await bigComposition(folder, 210, [
      [3, 4],
      [109, 0],
    ]);
    const { size } = await stat(file);
    expect(size).toBeGreaterThan(2 * WINDOW);
    Object.assign(readStats, { largest: 0, bytesRead: 0, whole: 0 });
    const store = await openPacked(file, true);
    // Never held whole: read twice through one window, and the text outside array_shards.
    expect(readStats.whole).toBe(0);
    expect(readStats.largest).toBe(WINDOW);
    // Twice, less the text before array_shards, and the text outside it again (under 1000 bytes).
    expect(readStats.bytesRead).toBeGreaterThan(2 * size - 1000);
    expect(readStats.bytesRead).toBeLessThan(2 * size + 1000);
    expect(keptEntries(store)).toBe(0);
    // The composition the bytes read whole and split in memory give (how the file was read before).
    const before = shardedStoreFromConfig(parseConfigText(await readFile(file)), { baseDir: folder });
    expect(keptEntries(before)).toBe(0);
    expect([...store.arrayMounts.get("a")!.knownIndices()]).toEqual([
      ...before.arrayMounts.get("a")!.knownIndices(),
    ]);
    const keys = ["/a/3.4.0", "/a/109.0.0", "/a/7.7.0", "/a/.zarray"] as AbsolutePath[];
    await expectSame(store, before, keys, folder);
    expect(await store.get("/a/109.0.0" as AbsolutePath)).toEqual(Uint8Array.of(109, 0));
    await store.close();
    await before.close();
    // Through a smaller window: no more than it is held, and the value is JSON.parse's.
    Object.assign(readStats, { largest: 0, bytesRead: 0, whole: 0 });
    const json = await readConfigFile(file, { window: 4096 });
    expect(readStats).toMatchObject({ largest: 4096, whole: 0 });
    expect(packedOf(json)).toBe(210 * 210 - 1);
    const text = await readFile(file, "utf8");
    expect(outcome(() => json)).toEqual(outcome(() => JSON.parse(text)));
  });

  it("fails on a big damaged file with JSON.parse's error, the file read again whole", async () => {
    const file = await bigComposition(path.join(tmp.dir, "damaged"), 75, []);
    const good = await readFile(file, "utf8");
    // A member ended by "}" after a comma (in the first window, in a later one), and the text cut short.
    const at = (f: number) => good.indexOf('"path_relative_to"', Math.floor(good.length * f));
    for (const text of [
      `${good.slice(0, at(0.1))}}${good.slice(at(0.1))}`,
      `${good.slice(0, at(0.6))}}${good.slice(at(0.6))}`,
      good.slice(0, -5),
    ]) {
      await writeFile(file, text);
      const message = outcome(() => JSON.parse(text)) as { error: string };
      expect(message.error).toMatch(/^SyntaxError: /);
      Object.assign(readStats, { largest: 0, bytesRead: 0, whole: 0 });
      await expect(openShardedStore(file)).rejects.toThrow(
        new ConfigError(
          "(root)",
          `${file} is not valid JSON: ${message.error.slice("SyntaxError: ".length)}`,
        ),
      );
      expect(readStats.bytesRead).toBeGreaterThan(0); // the split was tried first
      expect(readStats.whole).toBe(1);
    }
  });

  it("reads the Python original's config (factory inferred) packed, and one whose paths break the pattern whole", async () => {
    const inferred = await openPacked(
      await bigComposition(path.join(tmp.dir, "inferred"), 70, [], { declared: false }),
      true,
    );
    expect(keptEntries(inferred)).toBe(0);
    expect([...inferred.arrayMounts.get("a")!.knownIndices()].length).toBe(70 * 70);
    await inferred.close();
    // The last entry lies elsewhere: no factory can be inferred, so nothing may be packed.
    const folder = path.join(tmp.dir, "odd");
    const file = await bigComposition(folder, 70, [], { declared: false, odd: true });
    const odd = await openPacked(file, true);
    const whole = await openPacked(file, false);
    expect(keptEntries(odd)).toBe(70 * 70);
    expect(odd.toConfig({ relativeTo: folder })).toEqual(whole.toConfig({ relativeTo: folder }));
    await odd.close();
    await whole.close();
  });

  it("refuses a packed entry that leaves a confined folder through a link, naming it as before", async () => {
    const folder = path.join(tmp.dir, "link");
    const file = await bigComposition(folder, 70, [[0, 0]]);
    const outside = path.join(tmp.dir, "outside.zarr");
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
