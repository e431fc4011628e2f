import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import "../src/config/node-types.js";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { openShardedStore, saveShardedStore } from "../src/config/node-io.js";
import type { StoreConfig } from "../src/config/registry.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ShardedStore } from "../src/index.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { arrayShardZipStore, toZipStoreWithPrefix } from "../src/zip-shards.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { expectSchemaValid, produce, SEED } from "./helpers/config-common.js";
import { python } from "./helpers/python.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-config-py-"));
  // Fail, do not skip, without zarr-python.
  expect((await python("import zarr; print(zarr.__version__)")).trim()).toMatch(/^2\./);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Route {
  key: string;
  store: string;
  store_key: string;
}

describe("the Python original's configs", () => {
  for (const flavour of ["slash", "dot"] as const) {
    it(`${flavour}/config.json opens: arrays read equal to values.json, keys route as routing.json`, async () => {
      const root = `${SEED}${flavour}`;
      const text = await readFile(`${root}/config.json`, "utf8");
      expectSchemaValid(JSON.parse(text), `${flavour}/config.json`);
      const store = await openShardedStore(`${root}/config.json`);
      const values = JSON.parse(await readFile(`${root}/values.json`, "utf8")) as Record<
        string,
        { shape: number[]; values: unknown }
      >;
      expect(Object.keys(values).length).toBe(13);
      for (const [name, want] of Object.entries(values)) {
        const got = await readArray(store, name);
        expect(got.shape, name).toEqual(want.shape);
        expect(got.values, name).toEqual(want.values);
      }
      const routing = JSON.parse(await readFile(`${root}/routing.json`, "utf8")) as Route[];
      expect(routing.length).toBeGreaterThan(100);
      for (const r of routing) {
        const got = store.resolve(`/${r.key}` as AbsolutePath);
        const where = path.relative(root, (got.store as DirectoryStore).root);
        expect({ store: where, key: got.key }, r.key).toEqual({ store: r.store, key: `/${r.store_key}` });
      }
      // Our config of it is valid and lists the same index stores under the same keys.
      const ours = produce(store, { relativeTo: root });
      const theirs = JSON.parse(text);
      for (const a of ["simulation/coarse/foo", "simulation/fine/foo"]) {
        const idx = (c: StoreConfig) =>
          (c.config.kwargs.array_shards as Record<string, Record<string, StoreConfig>>)[a]!;
        expect(Object.keys(idx(ours)), a).toEqual(Object.keys(idx(theirs)));
        expect(
          Object.values(idx(ours)).map((c) => c.config.args),
          a,
        ).toEqual(Object.values(idx(theirs)).map((c) => c.config.args));
      }
      await store.close();
    });

    it(`${flavour}: a reopened composition of the original still grows where the original put its index stores`, async () => {
      const copy = `${dir}/grow-${flavour}`;
      await cp(`${SEED}${flavour}`, copy, { recursive: true });
      const store = await openShardedStore(`${copy}/config.json`);
      const spec = (store.arrayMounts.get("simulation/fine/foo")!.factory as { factorySpec?: unknown })
        .factorySpec;
      expect(spec).toEqual({
        kind: "directory",
        prefix: `${copy}/array_shards/fine_foo`,
        separator: flavour === "dot" ? "." : "/",
      });
      const before = await readArray(store, "simulation/fine/foo");
      const meta = JSON.parse(new TextDecoder().decode(await store.get("/simulation/fine/foo/.zarray")));
      meta.shape = [7, 3, 5];
      await store.set("/simulation/fine/foo/.zarray", new TextEncoder().encode(JSON.stringify(meta)));
      // zarrita cannot encode zlib: write the new row's chunks (1×1×2 float64, zlib) by key.
      const sep = flavour === "dot" ? "." : "/";
      const chunk = deflateSync(new Uint8Array(new Float64Array([2.5, 2.5]).buffer));
      for (const j of [0, 1, 2])
        for (const k of [0, 1, 2])
          await store.set(`/simulation/fine/foo/${[6, j, k].join(sep)}` as AbsolutePath, chunk);
      const made =
        flavour === "dot"
          ? (await readdir(`${copy}/array_shards/fine_foo`)).filter((n) => n.startsWith("6."))
          : (await readdir(`${copy}/array_shards/fine_foo/6`)).map((n) => `6/${n}`);
      expect(made.sort()).toEqual(["0", "1", "2"].map((j) => `6${flavour === "dot" ? "." : "/"}${j}.zarr`));
      const after = await readArray(store, "simulation/fine/foo");
      expect((after.values as unknown[]).slice(0, 6)).toEqual(before.values);
      expect((after.values as number[][][])[6]).toEqual([0, 1, 2].map(() => [2.5, 2.5, 2.5, 2.5, 2.5]));
      await store.close();
    });
  }
});

/** Every store config of a composition config, labelled as the tests below label stores. */
function storeConfigs(config: StoreConfig): Record<string, StoreConfig> {
  const out: Record<string, StoreConfig> = { base: config.config.args[0] as StoreConfig };
  for (const [m, c] of Object.entries(config.config.kwargs.shards as Record<string, StoreConfig>)) out[m] = c;
  const arrays = config.config.kwargs.array_shards as Record<string, Record<string, StoreConfig>>;
  for (const [a, idx] of Object.entries(arrays))
    for (const [id, c] of Object.entries(idx)) out[`${a}[${id}]`] = c;
  return out;
}

/** The stores of a composition under the labels of {@link storeConfigs}. */
function storesOf(store: ShardedStore): Record<string, Store> {
  const out: Record<string, Store> = { base: store.base };
  for (const [m, s] of store.shardMounts) out[m] = s;
  for (const [a, m] of store.arrayMounts)
    for (const { index, store: s } of m.stores.values())
      out[`${a}[${index.join(m.layout?.separator ?? "/")}]`] = s;
  return out;
}

/** What zarr-python makes of each store config of a saved config, from the config's folder. */
const READ_WITH_ZARR_PYTHON = `import sys, os, json, importlib
config_file = sys.argv[1]
# The original resolves relative paths against the working directory.
os.chdir(os.path.dirname(config_file))
config = json.load(open(config_file))
assert config["name"] == "ShardedStore" and config["module"] == "shardedstore", config["name"]
kwargs = config["config"]["kwargs"]
items = [("base", config["config"]["args"][0])]
items += list(kwargs.get("shards", {}).items())
for a, idx in kwargs.get("array_shards", {}).items():
    items += [(f"{a}[{i}]", c) for i, c in idx.items()]
out = {}
for label, c in items:
    cls = getattr(importlib.import_module(c["module"]), c["name"])
    store = cls(*c["config"]["args"], **c["config"]["kwargs"])
    mode = getattr(store, "mode", "r")
    entry = {"class": c["module"] + "." + c["name"], "mode": mode, "keys": sorted(store.keys())}
    if "[" in label:
        import zarr
        entry["values"] = zarr.open_array(store, mode="r")[...].tolist()
    store.close()
    out[label] = entry
print(json.dumps(out))
`;

async function hashes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of (await readdir(root, { recursive: true })) as string[]) {
    if (!f.endsWith(".zip")) continue;
    const file = path.join(root, f);
    out[f] = `${createHash("sha256")
      .update(await readFile(file))
      .digest("hex")} ${(await stat(file)).mtimeMs}`;
  }
  return out;
}

describe("the Python original can open our configs", () => {
  it("every store config of a saved v2 directory + zip composition constructs with zarr.storage, read-only, reading our keys", async () => {
    const p = `${dir}/ours`;
    await python(
      `import sys, zarr, numpy as np
g = zarr.open_group(zarr.DirectoryStore(sys.argv[1]), mode='w')
g.create_group('people').create_dataset('h', data=np.arange(4.0), chunks=(2,))
g.create_dataset('foo', data=np.arange(24, dtype='i4').reshape(4, 6), chunks=(1, 3), dimension_separator='/')
g.create_dataset('bar', data=np.arange(12, dtype='f8').reshape(2, 2, 3), chunks=(1, 1, 3))`,
      `${p}/single.zarr`,
    );
    const single = new DirectoryStore(`${p}/single.zarr`);
    const composition = (base: Store, people: Store, factory: typeof arrayShardDirectoryStore, at: string) =>
      new ShardedStore(base, {
        shards: { people },
        arrayShards: {
          foo: { dims: 1, factory: factory(`${at}/foo`) },
          bar: { dims: 2, factory: factory(`${at}/bar`) },
        },
      });
    const sharded = composition(
      new DirectoryStore(`${p}/dir/base.zarr`),
      new DirectoryStore(`${p}/dir/people.zarr`),
      arrayShardDirectoryStore,
      `${p}/dir`,
    );
    // Zips open for appending: zarr-python must still open every one read-only.
    const appending = composition(
      new ZipStore(`${p}/append/base.zip`, { mode: "a" }),
      new ZipStore(`${p}/append/people.zip`, { mode: "a" }),
      arrayShardZipStore,
      `${p}/append`,
    );
    // Metadata first, so the array shards exist before their chunks arrive.
    const keys = (await listAll(single)).sort(
      (a, b) => Number(!a.includes("/.z")) - Number(!b.includes("/.z")),
    );
    for (const target of [sharded, appending])
      for (const k of keys) await target.set(k as AbsolutePath, (await single.get(k as AbsolutePath))!);
    await appending.close();
    expect((appending.arrayMounts.get("foo")!.stores.get("3")!.store as ZipStore).mode).toBe("a");
    // Read-only zips, as the original's headline use makes them.
    const zipped = await sharded.mapShards(toZipStoreWithPrefix(`${p}/zip/data`));

    for (const [label, store, file] of [
      ["directories", sharded, `${p}/dir/config.json`],
      ["zips", zipped, `${p}/zip/config.json`],
      ["appending zips", appending, `${p}/append/config.json`],
    ] as const) {
      await saveShardedStore(store, file);
      const config = JSON.parse(await readFile(file, "utf8")) as StoreConfig;
      expectSchemaValid(config, label);
      const configs = storeConfigs(config);
      const stores = storesOf(store);
      expect(Object.keys(configs).sort(), label).toEqual(Object.keys(stores).sort());
      expect(Object.keys(configs).length, label).toBe(1 + 1 + 4 + 4);
      const before = await hashes(path.dirname(file));
      const theirs = JSON.parse(await python(READ_WITH_ZARR_PYTHON, file)) as Record<
        string,
        { class: string; mode: string; keys: string[]; values?: unknown }
      >;
      expect(await hashes(path.dirname(file)), `${label}: zarr-python changed a zip`).toEqual(before);
      const full = {
        foo: (await readArray(store, "foo")).values as unknown[],
        bar: (await readArray(store, "bar")).values as unknown[][],
      };
      for (const [name, s] of Object.entries(stores)) {
        const got = theirs[name]!;
        const zip = label !== "directories";
        expect(got.class, name).toBe(zip ? "zarr.storage.ZipStore" : "zarr.storage.DirectoryStore");
        if (zip) expect(got.mode, name).toBe("r");
        expect(got.keys, `${label} ${name}`).toEqual((await listAll(s)).map((k) => k.slice(1)));
        // An index store is a standalone array of the remaining dimensions.
        const m = /^(foo|bar)\[(.+)\]$/.exec(name);
        if (m) {
          const [i, j] = m[2]!.split(/[./]/).map(Number);
          const want = m[1] === "foo" ? full.foo[i!] : full.bar[i!]![j!];
          expect(got.values, `${label} ${name}`).toEqual(want);
        }
      }
    }
  });
});
