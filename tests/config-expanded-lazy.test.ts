// An expanded config (one store config per index store, the Python original's form) opens lazily:
// every entry is checked when the config is read (type, path, confinement, symbolic links), but its
// store is made on first use. The schema's shortcut for plain store configs must be sound.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../src/config/schema.js";
import { compileSchema } from "../src/config/schema-check.js";
import { isPlainPathStoreConfig } from "../src/config/store-fast-check.js";
import { LazyIndexEntry } from "../src/lazy-index-entry.js";
import {
  ConfigError,
  DirectoryStore,
  openShardedStore,
  ShardedStore,
  type StoreConfig,
} from "../src/node.js";

let dir: string;
let outside: string;
const enc = new TextEncoder();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-expanded-"));
  outside = path.join(dir, "outside");
  await mkdir(path.join(outside, "secret.zarr"), { recursive: true });
  await writeFile(path.join(outside, "secret.zarr", "0"), "s3cr3t");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const dirStore = (p: string): StoreConfig => ({
  name: "DirectoryStore",
  module: "zarr.storage",
  config: { args: [p], kwargs: {} },
});

/** A composition of one array sharded over 2 dims, listing the given index stores. */
function expanded(entries: Record<string, StoreConfig>): StoreConfig {
  return {
    name: "ShardedStore",
    module: "shardedstore",
    config: {
      args: [dirStore("base.zarr")],
      kwargs: { dimension_separator: ".", array_shard_dims: { a: 2 }, array_shards: { a: entries } },
    },
  };
}

/** Ids of the index stores an array has made so far (an entry not opened yet, or packed, is none). */
const made = (m: { stores: ReadonlyMap<string, { store: unknown }> }) =>
  [...m.stores.entries()]
    .filter(([, e]) => !(e instanceof LazyIndexEntry) || e.opened)
    .map(([id]) => id)
    .sort();

async function writeComposition(folder: string, config: StoreConfig): Promise<string> {
  await mkdir(path.join(folder, "base.zarr", "a"), { recursive: true });
  await writeFile(
    path.join(folder, "base.zarr", "a", ".zarray"),
    JSON.stringify({
      zarr_format: 2,
      shape: [3, 5, 4],
      chunks: [1, 1, 4],
      dtype: "|u1",
      compressor: null,
      fill_value: 0,
      filters: null,
      order: "C",
      dimension_separator: ".",
    }),
  );
  const file = path.join(folder, "composition.json");
  await writeFile(file, JSON.stringify(config));
  return file;
}

describe("an expanded config opens its index stores on first use", () => {
  it("makes no index store until a key routes to it, and closes only those it made", async () => {
    const folder = path.join(dir, "lazy");
    const entries: Record<string, StoreConfig> = {};
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        entries[`${i}.${j}`] = dirStore(`a/${i}/${j}.zarr`);
        await mkdir(path.join(folder, "a", String(i), `${j}.zarr`), { recursive: true });
        await writeFile(path.join(folder, "a", String(i), `${j}.zarr`, "0"), Uint8Array.of(i, j));
      }
    const store = await openShardedStore(await writeComposition(folder, expanded(entries)));
    const mount = store.arrayMounts.get("a")!;
    // Entries that are exactly the factory's index stores are kept as index boxes (packed): none is
    // made, yet all nine are known to exist.
    expect(made(mount)).toEqual([]);
    expect([...mount.knownIndices()].map((t) => t.join(",")).sort()).toEqual(
      Object.keys(entries)
        .map((id) => id.replace(".", ","))
        .sort(),
    );
    expect(await store.get("/a/2.1.0")).toEqual(Uint8Array.of(2, 1));
    expect(made(mount)).toEqual(["2,1"]);
    expect(mount.stores.get("2,1")!.store).toBeInstanceOf(DirectoryStore);
    expect((mount.stores.get("2,1")!.store as DirectoryStore).root).toBe(path.join(folder, "a/2/1.zarr"));
    await store.close();
    expect(made(mount)).toEqual(["2,1"]);
    // Saved again, every index store is still listed where it was.
    const config = store.toConfig({ form: "expanded", relativeTo: folder }) as StoreConfig;
    const listed = (config.config.kwargs.array_shards as Record<string, Record<string, StoreConfig>>).a!;
    expect(Object.keys(listed).sort()).toEqual(Object.keys(entries).sort());
    expect(listed["1.2"]!.config.args[0]).toBe("a/1/2.zarr");
  });

  it("refuses a bad entry when the config is read, naming the entry", async () => {
    const cases: [Record<string, StoreConfig>, RegExp][] = [
      [
        { "0.0": dirStore("a/0/0.zarr"), "0/0": dirStore("a/0/0b.zarr") },
        /\["0\/0"\]: is the same index as "0\.0"/,
      ],
      [
        { "0.0": dirStore("a/0/0.zarr"), "0.1.2": dirStore("a/x.zarr") },
        /\["0\.1\.2"\]: index tuple has 3 indices/,
      ],
      [
        { "0.0": dirStore("a/0/0.zarr"), "1.0": { ...dirStore("a/1/0.zarr"), name: "Nope" } },
        /\["1\.0"\]\.name/,
      ],
      [{ "0.0": dirStore("a/0/0.zarr"), "1.1": dirStore("") }, /\["1\.1"\]\.config\.args\[0\]/],
    ];
    for (const [entries, message] of cases) {
      const err = (() => {
        try {
          ShardedStore.fromConfig(expanded(entries), { baseDir: dir });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
    }
  });

  it("refuses, when confined, any entry leading out of the folder: by path, or by a symbolic link anywhere in a folder", async () => {
    const folder = path.join(dir, "confined");
    await mkdir(path.join(folder, "a", "0"), { recursive: true });
    for (const j of [0, 1, 2, 4]) await mkdir(path.join(folder, "a", "0", `${j}.zarr`));
    // The fourth store of the folder is a link leading out: the folder is learnt by then.
    await symlink(path.join(outside, "secret.zarr"), path.join(folder, "a", "0", "3.zarr"));
    const entries: Record<string, StoreConfig> = {};
    for (const j of [0, 1, 2, 3, 4]) entries[`0.${j}`] = dirStore(`a/0/${j}.zarr`);
    const file = await writeComposition(folder, expanded(entries));
    const err = await openShardedStore(file, { confine: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /\["0\.3"\]\.config\.args\[0\]: .*symbolic link .*outside the config's folder/,
    );
    // A folder that is itself a link leading out (its first entry is refused by the full check).
    const other = path.join(dir, "confined-folder");
    await mkdir(path.join(other, "a", "0", "0.zarr"), { recursive: true });
    await symlink(outside, path.join(other, "a", "1"));
    const viaFolder = await writeComposition(
      other,
      expanded({
        "0.0": dirStore("a/0/0.zarr"),
        "1.0": dirStore("a/1/x.zarr"),
        "1.1": dirStore("a/1/secret.zarr"),
      }),
    );
    const err2 = await openShardedStore(viaFolder, { confine: true }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/\["1\.0"\]\.config\.args\[0\]: .*symbolic link/);
    // By path: `..` in the folder part, for an entry whose folder was seen inside before.
    const byPath = expanded({
      "0.0": dirStore("a/0/0.zarr"),
      "0.1": dirStore("a/0/../../../outside/secret.zarr"),
    });
    expect(() => ShardedStore.fromConfig(byPath, { baseDir: folder, confine: true })).toThrow(
      /\["0\.1"\]\.config\.args\[0\]: path .* outside/,
    );
    // Unconfined, the same stores open (the caller trusts the config) and read through the link.
    const open = await openShardedStore(file);
    expect(await open.get("/a/0.3.0")).toEqual(enc.encode("s3cr3t"));
  });

  it("resolves entries with '..', '.', '//' and absolute paths as a whole path is resolved", () => {
    const entries = {
      "0.0": dirStore("a/0/0.zarr"),
      "0.1": dirStore("a/./0/../0/1.zarr"),
      "0.2": dirStore("/abs/where/2.zarr"),
      "0.3": dirStore("../up/3.zarr"),
      "0.4": dirStore("a//0/4.zarr"),
    };
    const store = ShardedStore.fromConfig(expanded(entries), { baseDir: "/data/comp" });
    const roots = [...store.arrayMounts.get("a")!.stores.values()].map(
      (e) => (e.store as DirectoryStore).root,
    );
    expect(roots).toEqual([
      "/data/comp/a/0/0.zarr",
      "/data/comp/a/0/1.zarr",
      "/abs/where/2.zarr",
      "/data/up/3.zarr",
      "/data/comp/a/0/4.zarr",
    ]);
  });
});

describe("the schema's shortcut for plain store configs", () => {
  const full = compileSchema(configSchema);
  // Store configs near the shortcut's shapes: every member drawn from valid and invalid values.
  const value = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(null, "", ".", "/", "r", "a", "w", "x", "config_dir", 0, 1, -1, 1.5, true, false),
    fc.constant({}),
    fc.constant([]),
  );
  const kwargs = fc.dictionary(
    fc.constantFrom("normalize_keys", "dimension_separator", "mode", "compression", "allowZip64", "other"),
    value,
    { maxKeys: 3 },
  );
  const storeConfig = fc.record(
    {
      name: fc.constantFrom(
        "DirectoryStore",
        "NestedDirectoryStore",
        "ZipStore",
        "FSStore",
        "MemoryStore",
        "",
        3,
      ),
      module: fc.constantFrom("zarr.storage", "shardedstore", "other", ""),
      version: fc.oneof(fc.string(), fc.integer()),
      config: fc.record(
        {
          args: fc.oneof(
            fc.constant(["a/0/0.zarr"]),
            fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 2 }),
            fc.constant("a"),
          ),
          kwargs: fc.oneof(fc.constant({}), kwargs, fc.constant(null), fc.constant([])),
          path_relative_to: value,
          shardedstore: fc.oneof(
            fc.dictionary(fc.constantFrom("mode", "other"), value, { maxKeys: 2 }),
            value,
          ),
        },
        { requiredKeys: ["args", "kwargs"] },
      ),
    },
    { requiredKeys: ["name", "module", "config"] },
  );

  it("accepts only what the whole schema accepts", () => {
    let accepted = 0;
    fc.assert(
      fc.property(storeConfig, (c) => {
        const clean = JSON.parse(JSON.stringify(c));
        if (isPlainPathStoreConfig(clean)) {
          accepted++;
          expect(full(clean)).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
    // The property is not vacuous: the generator reaches accepted configs.
    expect(accepted).toBeGreaterThan(0);
  });

  it("takes the configs an expanded config is made of, and leaves others to the schema", () => {
    expect(isPlainPathStoreConfig(dirStore("a/0/0.zarr"))).toBe(true);
    expect(
      isPlainPathStoreConfig({
        name: "ZipStore",
        module: "zarr.storage",
        config: {
          args: ["a/0/0.zarr.zip"],
          kwargs: { mode: "r" },
          path_relative_to: "config_dir",
          shardedstore: { mode: "a" },
        },
      }),
    ).toBe(true);
    expect(isPlainPathStoreConfig({ ...dirStore("x"), config: { args: ["x"], kwargs: { mode: "r" } } })).toBe(
      false,
    );
    expect(
      isPlainPathStoreConfig({ name: "S3Store", module: "shardedstore", config: { args: [], kwargs: {} } }),
    ).toBe(false);
  });
});
