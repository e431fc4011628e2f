import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import "../src/config/node-types.js";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { shardedStoreFromConfig, shardedStoreToConfig } from "../src/config/codec.js";
import { openShardedStore, saveShardedStore } from "../src/config/node-io.js";
import type { StoreConfig } from "../src/config/registry.js";
import { configSchema } from "../src/config/schema.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ConfigError } from "../src/errors.js";
import { FetchStore } from "../src/fetch-store.js";
import { MemoryStore } from "../src/memory-store.js";
import { S3Store } from "../src/s3-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { arrayShardZipStore } from "../src/zip-shards.js";
import { ZipStore as UrlZipStore } from "../src/zip-store.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll, ramp, readArray } from "./helpers/arrays.js";
import { startStaticServer } from "./helpers/http-server.js";
import { python } from "./helpers/python.js";
import { startS3Server } from "./helpers/s3-server.js";

const SEED = new URL("./fixtures/python-seed/", import.meta.url).pathname;
const produced: unknown[] = [];
const toConfig = (s: ShardedStore, relativeTo?: string) => {
  const c = shardedStoreToConfig(s, relativeTo ? { relativeTo } : {});
  produced.push(c);
  return c;
};
const roundTrip = (c: unknown) => JSON.parse(JSON.stringify(c));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-config-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeArray(store: Store, p: string, shape: number[], chunks: number[], seed = 1) {
  const a = await zarr.create(zarr.root(store as zarr.Mutable).resolve(p), {
    shape,
    chunkShape: chunks,
    dtype: "float32",
  });
  const n = shape.reduce((x, y) => x * y, 1);
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1));
  await zarr.set(a, null, { data: new Float32Array(ramp(n, seed)), shape, stride } as never);
}

describe("config round trip", () => {
  it("is lossless for every store type we ship", async () => {
    const server = await startStaticServer(`${SEED}slash`);
    const s3 = await startS3Server();
    try {
      await s3.createBucket("cfg");
      const s3store = new S3Store({ bucket: "cfg", prefix: "grp", ...s3.clientConfig });
      await s3store.set("/zarr.json", new TextEncoder().encode('{"zarr_format":3,"node_type":"group"}'));
      const zipFile = `${dir}/rt/zipped.zip`;
      const z = new ZipStore(zipFile, { mode: "w" });
      await z.set("/zarr.json", new TextEncoder().encode('{"zarr_format":3,"node_type":"group"}'));
      await z.close();
      const mem = new MemoryStore();
      await mem.set("/zarr.json", new Uint8Array([123, 125]));
      const inner = new ShardedStore(new MemoryStore(), {
        shards: { deep: new DirectoryStore(`${dir}/rt/deep.zarr`) },
      });
      await inner.set("/deep/x", new Uint8Array([9]));
      const store = new ShardedStore(new DirectoryStore(`${dir}/rt/base.zarr`), {
        shards: {
          zip: new ZipStore(zipFile),
          httpzip: new UrlZipStore(`${server.url}/rt.zip`),
          http: new FetchStore(`${server.url}/single.zarr`),
          s3: s3store,
          mem,
          nested: inner,
        },
        arrayShards: { "data/a": { dims: 1, factory: arrayShardDirectoryStore(`${dir}/rt/a`) } },
      });
      await zarr.create(zarr.root(store).resolve("data"));
      await writeArray(store, "data/a", [3, 4], [1, 2]);
      // Credentials never go into a config: the reloaded S3Store finds them where the SDK looks.
      process.env.AWS_ACCESS_KEY_ID = s3.clientConfig.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.clientConfig.credentials.secretAccessKey;
      const c1 = toConfig(store);
      expect(JSON.stringify(c1)).not.toContain(s3.clientConfig.credentials.secretAccessKey);
      const again = shardedStoreFromConfig(roundTrip(c1));
      expect(toConfig(again)).toEqual(c1);
      // Reads the same: everything listable, and the HTTP shard by key.
      for (const m of ["/zip", "/s3", "/mem", "/nested", "/data"] as AbsolutePath[]) {
        const keys = await listAll(store, m);
        expect(keys.length, m).toBeGreaterThan(0);
        expect(await listAll(again, m)).toEqual(keys);
        for (const k of keys)
          expect(await again.get(k as AbsolutePath)).toEqual(await store.get(k as AbsolutePath));
      }
      expect(await again.get("/http/.zgroup")).toEqual(await store.get("/http/.zgroup"));
      expect(await readArray(again, "data/a")).toEqual(await readArray(store, "data/a"));
      const kinds = c1.config.kwargs.shards as Record<string, StoreConfig>;
      expect(Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, `${v.module}.${v.name}`]))).toEqual(
        {
          zip: "zarr.storage.ZipStore",
          httpzip: "shardedstore.ZipStore",
          http: "zarr.storage.FSStore",
          s3: "shardedstore.S3Store",
          mem: "shardedstore.MemoryStore",
          nested: "shardedstore.ShardedStore",
        },
      );
      expect(kinds.zip?.config.kwargs).toEqual({ mode: "r" });
    } finally {
      await server.close();
      await s3.close();
    }
  });

  for (const kind of ["directory", "zip"] as const) {
    it(`keeps ${kind} array-shard factories: a reloaded array grows where the original factory would put it`, async () => {
      const p = `${dir}/grow-${kind}`;
      const factory =
        kind === "directory" ? arrayShardDirectoryStore(`${p}/foo`) : arrayShardZipStore(`${p}/foo`);
      const store = new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
        arrayShards: { foo: { dims: 1, factory } },
      });
      await writeArray(store, "foo", [2, 3], [1, 3]);
      await store.close();
      const config = toConfig(store);
      expect((config.config.kwargs as { array_shard_factories: unknown }).array_shard_factories).toEqual({
        foo: { kind, prefix: `${p}/foo`, separator: "/" },
      });
      const reloaded = shardedStoreFromConfig(roundTrip(config));
      const meta = JSON.parse(new TextDecoder().decode(await reloaded.get("/foo/zarr.json")));
      meta.shape = [4, 3];
      await reloaded.set("/foo/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
      const arr = await zarr.open(zarr.root(reloaded).resolve("foo"), { kind: "array" });
      await zarr.set(arr, [3, null], 1.5);
      await reloaded.close();
      const suffix = kind === "directory" ? ".zarr" : ".zarr.zip";
      expect((await readdir(`${p}/foo`)).sort()).toEqual(["0", "1", "2", "3"].map((i) => `${i}${suffix}`));
      const check = new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
        arrayShards: { foo: { dims: 1, factory } },
      });
      expect(((await readArray(check, "foo")).values as number[][])[3]).toEqual([1.5, 1.5, 1.5]);
    });
  }

  it("saves portable configs: the folder can be moved and still opens", async () => {
    const p = `${dir}/portable/orig`;
    const store = new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
      shards: { people: new DirectoryStore(`${p}/people.zarr`), outside: new MemoryStore() },
      arrayShards: { foo: { dims: 1, factory: arrayShardDirectoryStore(`${p}/shards/foo`) } },
    });
    await zarr.create(zarr.root(store).resolve("people"));
    await writeArray(store, "people/h", [4], [2]);
    await writeArray(store, "foo", [3, 2], [1, 2]);
    await saveShardedStore(store, `${p}/store.json`);
    const text = await readFile(`${p}/store.json`, "utf8");
    produced.push(JSON.parse(text));
    expect(text).not.toContain(p);
    expect(JSON.parse(text).config.args[0].config).toEqual({
      args: ["base.zarr"],
      kwargs: {},
      path_relative_to: "config_dir",
    });
    await cp(p, `${dir}/portable/moved`, { recursive: true });
    await rm(p, { recursive: true });
    const moved = await openShardedStore(`${dir}/portable/moved/store.json`);
    expect(String(moved.resolve("/foo/c/2/0").store)).toBe(
      `DirectoryStore(${dir}/portable/moved/shards/foo/2.zarr)`,
    );
    expect((await readArray(moved, "foo")).shape).toEqual([3, 2]);
    expect((await readArray(moved, "people/h")).shape).toEqual([4]);
  });
});

describe("the Python original's configs", () => {
  for (const flavour of ["slash", "dot"]) {
    it(`${flavour}/config.json opens, reads values.json and routes as routing.json`, async () => {
      const root = `${SEED}${flavour}`;
      const store = await openShardedStore(`${root}/config.json`);
      const values = JSON.parse(await readFile(`${root}/values.json`, "utf8")) as Record<
        string,
        { values: unknown }
      >;
      for (const [name, want] of Object.entries(values))
        expect((await readArray(store, name)).values, name).toEqual(want.values);
      const routing = JSON.parse(await readFile(`${root}/routing.json`, "utf8")) as {
        key: string;
        store: string;
        store_key: string;
      }[];
      for (const r of routing) {
        const got = store.resolve(`/${r.key}` as AbsolutePath);
        expect(
          { store: path.relative(root, (got.store as DirectoryStore).root), key: got.key },
          r.key,
        ).toEqual({
          store: r.store,
          key: `/${r.store_key}`,
        });
      }
      // No factory in the original's config: inferred from its index store paths.
      const spec = (store.arrayMounts.get("simulation/fine/foo")!.factory as { factorySpec?: unknown })
        .factorySpec;
      expect(spec).toEqual({
        kind: "directory",
        prefix: `${root}/array_shards/fine_foo`,
        separator: flavour === "dot" ? "." : "/",
      });
      produced.push(toConfig(store));
    });
  }
});

describe("the Python original can open our configs", () => {
  it("every store config of a v2 directory + zip composition constructs with zarr.storage and reads the same keys", async () => {
    const p = `${dir}/py`;
    await python(
      `import sys, zarr, numpy as np
g = zarr.open_group(zarr.DirectoryStore(sys.argv[1]), mode='w')
g.create_group('people').create_dataset('h', data=np.arange(4.0), chunks=(2,))
g.create_dataset('foo', data=np.arange(24, dtype='i4').reshape(4, 6), chunks=(1, 3), dimension_separator='/')`,
      `${p}/single.zarr`,
    );
    const single = new DirectoryStore(`${p}/single.zarr`);
    const sharded = new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
      shards: { people: new DirectoryStore(`${p}/people.zarr`) },
      arrayShards: { foo: { dims: 1, factory: arrayShardDirectoryStore(`${p}/foo`) } },
    });
    const keys = (await listAll(single)).sort(
      (a, b) => Number(!a.includes("/.z")) - Number(!b.includes("/.z")),
    );
    for (const k of keys) await sharded.set(k as AbsolutePath, (await single.get(k as AbsolutePath))!);
    const { toZipStoreWithPrefix } = await import("../src/zip-shards.js");
    const zipped = await sharded.mapShards(toZipStoreWithPrefix(`${p}/zip/data`));
    for (const [label, store] of [
      ["dir", sharded],
      ["zip", zipped],
    ] as const) {
      const config = toConfig(store);
      const walk: { path: string; config: StoreConfig; store: Store }[] = [];
      const base = config.config.args[0] as StoreConfig;
      walk.push({ path: "base", config: base, store: store.base });
      for (const [m, c] of Object.entries(config.config.kwargs.shards as Record<string, StoreConfig>)) {
        walk.push({ path: m, config: c, store: store.shardMounts.get(m)! });
      }
      for (const [a, idx] of Object.entries(
        config.config.kwargs.array_shards as Record<string, Record<string, StoreConfig>>,
      )) {
        for (const [id, c] of Object.entries(idx)) {
          walk.push({
            path: `${a}[${id}]`,
            config: c,
            store: store.arrayMounts.get(a)!.stores.get(id.split("/").join(","))!.store,
          });
        }
      }
      expect(walk.length).toBe(1 + 1 + 4);
      const out = await python(
        `import sys, json, zarr.storage
res = {}
for item in json.loads(sys.argv[1]):
    c = item['config']
    store = getattr(zarr.storage, c['name'])(*c['config']['args'], **c['config']['kwargs'])
    assert getattr(store, 'mode', 'r') == 'r', (item['path'], store.mode)
    res[item['path']] = sorted(store.keys())
    store.close()
print(json.dumps(res))`,
        JSON.stringify(walk.map((w) => ({ path: w.path, config: w.config }))),
      );
      const theirs = JSON.parse(out) as Record<string, string[]>;
      for (const w of walk)
        expect(theirs[w.path], `${label} ${w.path}`).toEqual((await listAll(w.store)).map((k) => k.slice(1)));
    }
  });
});

describe("bad configs", () => {
  const good = () => ({
    name: "ShardedStore",
    module: "shardedstore",
    config: {
      args: [{ name: "DirectoryStore", module: "zarr.storage", config: { args: ["base.zarr"], kwargs: {} } }],
      kwargs: {
        shards: {
          people: {
            name: "DirectoryStore",
            module: "zarr.storage",
            config: { args: ["people.zarr"], kwargs: {} },
          },
        },
        array_shard_dims: { "sim/foo": 1 },
        array_shards: {
          "sim/foo": {
            "0": {
              name: "DirectoryStore",
              module: "zarr.storage",
              config: { args: ["foo/0.zarr"], kwargs: {} },
            },
          },
        },
      },
    },
  });
  type Cfg = ReturnType<typeof good> & Record<string, unknown>;
  const cases: [string, (c: Cfg) => unknown, RegExp][] = [
    ["not JSON", () => "{not json", /^\(root\): is not valid JSON/],
    ["not an object", () => 42, /^\(root\): must be object/],
    ["wrong top-level name", (c) => ({ ...c, name: "Nope" }), /^name: must be "ShardedStore"/],
    ["name of the wrong type", (c) => ({ ...c, name: 7 }), /^name: must be string/],
    ["missing config", (c) => ({ name: c.name, module: c.module }), /^config: is required/],
    ["missing args", (c) => ({ ...c, config: { kwargs: c.config.kwargs } }), /^config\.args: is required/],
    [
      "args not an array",
      (c) => ({ ...c, config: { ...c.config, args: {} } }),
      /^config\.args: must be array/,
    ],
    [
      "two base stores",
      (c) => ({ ...c, config: { ...c.config, args: [c.config.args[0], c.config.args[0]] } }),
      /^config\.args: must NOT have more than 1 items/,
    ],
    [
      "base not a store config",
      (c) => ({ ...c, config: { ...c.config, args: ["base.zarr"] } }),
      /^config\.args\[0\]: must be object/,
    ],
    [
      "unknown store type",
      (c) => {
        c.config.kwargs.shards.people.name = "CloudStore";
        return c;
      },
      /^config\.kwargs\.shards\.people\.name: unknown store type "zarr\.storage\.CloudStore"/,
    ],
    [
      "unknown module",
      (c) => {
        c.config.kwargs.shards.people.module = "nowhere";
        return c;
      },
      /^config\.kwargs\.shards\.people\.module: unknown store type "nowhere\.DirectoryStore"/,
    ],
    [
      "shard without name",
      (c) => {
        delete (c.config.kwargs.shards.people as Partial<StoreConfig>).name;
        return c;
      },
      /^config\.kwargs\.shards\.people\.name: is required/,
    ],
    [
      "shard kwargs not an object",
      (c) => {
        (c.config.kwargs.shards.people.config as { kwargs: unknown }).kwargs = [];
        return c;
      },
      /^config\.kwargs\.shards\.people\.config\.kwargs: must be object/,
    ],
    [
      "directory path not a string",
      (c) => {
        c.config.kwargs.shards.people.config.args = [3] as never;
        return c;
      },
      /^config\.kwargs\.shards\.people\.config\.args\[0\]: must be the directory path/,
    ],
    [
      "overlapping mounts",
      (c) => {
        (c.config.kwargs.shards as Record<string, unknown>)["people/inner"] = c.config.kwargs.shards.people;
        return c;
      },
      /^config\.kwargs: mount "people\/inner" is inside mount "people"/,
    ],
    [
      "array shard inside a group shard",
      (c) => {
        (c.config.kwargs.shards as Record<string, unknown>).sim = c.config.kwargs.shards.people;
        return c;
      },
      /^config\.kwargs: mount "sim\/foo" is inside mount "sim"/,
    ],
    [
      "negative dims",
      (c) => {
        c.config.kwargs.array_shard_dims["sim/foo"] = -1;
        return c;
      },
      /^config\.kwargs\.array_shard_dims\["sim\/foo"\]: must be >= 1/,
    ],
    [
      "non-integer dims",
      (c) => {
        c.config.kwargs.array_shard_dims["sim/foo"] = 1.5;
        return c;
      },
      /^config\.kwargs\.array_shard_dims\["sim\/foo"\]: must be integer/,
    ],
    [
      "dims that disagree with the index tuples",
      (c) => {
        c.config.kwargs.array_shard_dims["sim/foo"] = 2;
        return c;
      },
      /^config\.kwargs\.array_shards\["sim\/foo"\]\["0"\]: index tuple has 1 indices, but array_shard_dims says 2/,
    ],
    [
      "index key that is not a tuple",
      (c) => {
        (c.config.kwargs.array_shards["sim/foo"] as Record<string, unknown>)["a/b"] =
          c.config.kwargs.array_shards["sim/foo"]["0"];
        return c;
      },
      /^config\.kwargs\.array_shards\["sim\/foo"\]\["a\/b"\]: is not an index tuple/,
    ],
    [
      "index key with a leading zero",
      (c) => {
        (c.config.kwargs.array_shards["sim/foo"] as Record<string, unknown>)["01"] =
          c.config.kwargs.array_shards["sim/foo"]["0"];
        return c;
      },
      /\["01"\]: is not an index tuple/,
    ],
    [
      "bad dimension_separator",
      (c) => {
        (c.config.kwargs as Record<string, unknown>).dimension_separator = "-";
        return c;
      },
      /^config\.kwargs\.dimension_separator: must be one of/,
    ],
    [
      "bad factory kind",
      (c) => {
        (c.config.kwargs as Record<string, unknown>).array_shard_factories = {
          "sim/foo": { kind: "tape", prefix: "x" },
        };
        return c;
      },
      /^config\.kwargs\.array_shard_factories\["sim\/foo"\]\.kind: must be one of/,
    ],
    [
      "zip opened for writing in a config",
      (c) => {
        c.config.kwargs.shards.people = {
          name: "ZipStore",
          module: "zarr.storage",
          config: { args: ["p.zip"], kwargs: { mode: "x" } as never },
        };
        return c;
      },
      /^config\.kwargs\.shards\.people\.config\.kwargs\.mode: must be "r" or "a"/,
    ],
    [
      "unsupported URL scheme",
      (c) => {
        c.config.kwargs.shards.people = {
          name: "FSStore",
          module: "zarr.storage",
          config: { args: ["gopher://x/y"], kwargs: {} },
        };
        return c;
      },
      /^config\.kwargs\.shards\.people\.config\.args\[0\]: unsupported URL scheme/,
    ],
    [
      "path escaping baseDir under confinement",
      (c) => {
        c.config.kwargs.shards.people.config.args = ["../../etc"];
        return c;
      },
      /^config\.kwargs\.shards\.people\.config\.args\[0\]: path "\.\.\/\.\.\/etc" resolves to .*, outside/,
    ],
    [
      "absolute path outside baseDir under confinement",
      (c) => {
        c.config.args[0]!.config.args = ["/tmp/elsewhere"];
        return c;
      },
      /^config\.args\[0\]\.config\.args\[0\]: path "\/tmp\/elsewhere" resolves to \/tmp\/elsewhere, outside/,
    ],
    [
      "S3 store without bucket",
      (c) => {
        c.config.kwargs.shards.people = {
          name: "S3Store",
          module: "shardedstore",
          config: { args: [], kwargs: {} },
        };
        return c;
      },
      /^config\.kwargs\.shards\.people\.config\.kwargs\.bucket: must be a non-empty string/,
    ],
  ];

  it(`has a corpus of at least 20 bad configs (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const [what, make, message] of cases) {
    it(`rejects ${what}, naming the member, without touching the disk`, async () => {
      const baseDir = await mkdtemp(path.join(dir, "bad-"));
      const cfg = make(JSON.parse(JSON.stringify(good())) as Cfg);
      const err = (() => {
        try {
          shardedStoreFromConfig(cfg, { baseDir, confine: true });
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(message);
      expect(await readdir(baseDir)).toEqual([]);
    });
  }

  it("accepts the good config the corpus starts from", () => {
    expect(shardedStoreFromConfig(good(), { baseDir: dir, confine: true })).toBeInstanceOf(ShardedStore);
  });

  it("reports a missing config file and a file that is not JSON", async () => {
    await expect(openShardedStore(`${dir}/nope.json`)).rejects.toThrow(/cannot read .*nope\.json/);
    await writeFile(`${dir}/broken.json`, "{");
    await expect(openShardedStore(`${dir}/broken.json`)).rejects.toThrow(/broken\.json is not valid JSON/);
  });
});

describe("the published JSON Schema", () => {
  it("is the file in the package and accepts every config these tests produced", async () => {
    const file = JSON.parse(await readFile(new URL("../config.schema.json", import.meta.url), "utf8"));
    expect(file).toEqual(JSON.parse(JSON.stringify(configSchema)));
    const validate = new Ajv({ strict: false }).compile(file);
    expect(produced.length).toBeGreaterThanOrEqual(8);
    for (const c of produced) expect(validate(c), JSON.stringify(validate.errors)).toBe(true);
    for (const f of ["slash", "dot"])
      expect(validate(JSON.parse(await readFile(`${SEED}${f}/config.json`, "utf8")))).toBe(true);
  });
});
