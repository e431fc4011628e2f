import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import "../src/config/node-types.js";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { registerFactoryKind } from "../src/config/factories.js";
import { registerStoreType, type StoreConfig } from "../src/config/registry.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ConfigError } from "../src/errors.js";
import { FetchStore } from "../src/fetch-store.js";
import { ShardedStore } from "../src/index.js";
import { MemoryStore } from "../src/memory-store.js";
import { S3Store } from "../src/s3-store.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { arrayShardZipStore } from "../src/zip-shards.js";
import { ZipStore as UrlZipStore } from "../src/zip-store.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { expectSameData, produce, reload, thrown, writeArray } from "./helpers/config-common.js";
import { startStaticServer } from "./helpers/http-server.js";
import { startS3Server } from "./helpers/s3-server.js";

const GROUP = new TextEncoder().encode('{"zarr_format":3,"node_type":"group"}');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-config-rt-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kindOf = (c: StoreConfig) => `${c.module}.${c.name}`;

describe("toConfig → JSON → fromConfig", () => {
  it("is lossless for every store type we ship: same keys, same bytes, equal config", async () => {
    const server = await startStaticServer(dir);
    const s3 = await startS3Server();
    const stores: ShardedStore[] = [];
    try {
      await s3.createBucket("cfg");
      const s3store = new S3Store({ bucket: "cfg", prefix: "grp", ...s3.clientConfig });
      await s3store.set("/zarr.json", GROUP);
      const roZip = `${dir}/all/ro.zip`;
      const w = new ZipStore(roZip, { mode: "w" });
      await w.set("/zarr.json", GROUP);
      await w.close();
      const mem = new MemoryStore();
      await mem.set("/zarr.json", GROUP);
      await mem.set("/bin/x", new Uint8Array([0, 255, 128, 7]));
      const inner = new ShardedStore(new MemoryStore(), {
        shards: { deep: new DirectoryStore(`${dir}/all/deep.zarr`) },
      });
      await inner.set("/deep/x", new Uint8Array([9]));
      const store = new ShardedStore(new DirectoryStore(`${dir}/all/base.zarr`), {
        shards: {
          dir: new DirectoryStore(`${dir}/all/dir.zarr`),
          zip: new ZipStore(roZip),
          appendzip: new ZipStore(`${dir}/all/append.zip`, { mode: "a" }),
          httpzip: new UrlZipStore(`${server.url}/all/ro.zip`),
          http: new FetchStore(`${server.url}/all/dir.zarr`),
          httpw: new FetchStore(`${server.url}/w`, { writable: true, missingStatuses: [403, 404] }),
          s3: s3store,
          mem,
          nested: inner,
        },
        arrayShards: {
          "data/a": { dims: 1, factory: arrayShardDirectoryStore(`${dir}/all/a`) },
          "data/z": { dims: 2, factory: arrayShardZipStore(`${dir}/all/z`, { separator: "." }) },
        },
      });
      stores.push(store);
      await zarr.create(zarr.root(store).resolve("data"));
      await zarr.create(zarr.root(store).resolve("dir"));
      await zarr.create(zarr.root(store).resolve("appendzip"));
      await writeArray(store, "data/a", [3, 4], [1, 2]);
      await writeArray(store, "data/z", [2, 2, 3], [1, 1, 3], 5);
      await store.close();
      // Credentials never go into a config: the reloaded S3Store finds them where the SDK looks.
      process.env.AWS_ACCESS_KEY_ID = s3.clientConfig.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.clientConfig.credentials.secretAccessKey;
      const c1 = produce(store, { form: "expanded" });
      expect(JSON.stringify(c1)).not.toContain(s3.clientConfig.credentials.secretAccessKey);
      const again = reload(c1);
      stores.push(again);
      expect(produce(again, { form: "expanded" })).toEqual(c1);

      const shards = c1.config.kwargs.shards as Record<string, StoreConfig>;
      expect(Object.fromEntries(Object.entries(shards).map(([k, v]) => [k, kindOf(v)]))).toEqual({
        dir: "zarr.storage.DirectoryStore",
        zip: "zarr.storage.ZipStore",
        appendzip: "zarr.storage.ZipStore",
        httpzip: "shardedstore.ZipStore",
        http: "zarr.storage.FSStore",
        httpw: "shardedstore.FetchStore",
        s3: "shardedstore.S3Store",
        mem: "shardedstore.MemoryStore",
        nested: "shardedstore.ShardedStore",
      });
      expect(shards.httpw?.config.kwargs).toEqual({ writable: true, missingStatuses: [403, 404] });
      // Index keys follow the array's chunk keys (v3 default: "/"); the factory names the files "i.j".
      const z = (c1.config.kwargs.array_shards as Record<string, Record<string, StoreConfig>>)["data/z"]!;
      expect(Object.entries(z).map(([id, c]) => [id, c.config.args[0]])).toEqual(
        ["0/0", "0/1", "1/0", "1/1"].map((id) => [id, `${dir}/all/z/${id.replace("/", ".")}.zarr.zip`]),
      );

      let n = 0;
      for (const m of ["/dir", "/zip", "/appendzip", "/s3", "/mem", "/nested", "/data"] as AbsolutePath[])
        n += await expectSameData(store, again, m);
      expect(n).toBeGreaterThanOrEqual(20);
      // The HTTP shards cannot list: read by key (the server serves the folder of the other shards).
      for (const [key, want] of [
        ["/http/zarr.json", await store.get("/dir/zarr.json")],
        ["/httpzip/zarr.json", GROUP],
      ] as const) {
        expect(want).toBeDefined();
        expect(await store.get(key), key).toEqual(want);
        expect(await again.get(key), key).toEqual(want);
      }
      const httpw = again.shardMounts.get("httpw") as FetchStore;
      expect([httpw.writable, httpw.missingStatuses]).toEqual([true, [403, 404]]);
      expect(await readArray(again, "data/z")).toEqual(await readArray(store, "data/z"));
    } finally {
      for (const s of stores) await s.close().catch(() => {});
      await server.close();
      await s3.close();
    }
  });

  for (const kind of ["directory", "zip"] as const) {
    for (const separator of ["/", "."] as const) {
      it(`keeps a ${kind} factory (separator "${separator}"): a reloaded array grows where the original factory would put it`, async () => {
        const p = `${dir}/grow-${kind}-${separator === "/" ? "slash" : "dot"}`;
        const make = kind === "directory" ? arrayShardDirectoryStore : arrayShardZipStore;
        const factory = make(`${p}/foo`, { separator });
        const store = new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
          arrayShards: { foo: { dims: 2, factory } },
        });
        await writeArray(store, "foo", [2, 1, 3], [1, 1, 3]);
        await store.close();
        const config = produce(store);
        expect(config.config.kwargs.array_shard_factories).toEqual({
          foo: { kind, prefix: `${p}/foo`, separator },
        });
        const reloaded = reload(config);
        const meta = JSON.parse(new TextDecoder().decode(await reloaded.get("/foo/zarr.json")));
        meta.shape = [3, 2, 3];
        await reloaded.set("/foo/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
        const arr = await zarr.open(zarr.root(reloaded).resolve("foo"), { kind: "array" });
        await zarr.set(arr, [2, 1, null], 1.5);
        await reloaded.close();
        const suffix = kind === "directory" ? ".zarr" : ".zarr.zip";
        const created = separator === "." ? await readdir(`${p}/foo`) : await readdir(`${p}/foo/2`);
        // Only the index stores that received a chunk exist: growing alone creates none.
        const want = separator === "." ? ["0.0", "1.0", "2.1"] : ["1"];
        expect(created.sort()).toEqual(want.map((i) => `${i}${suffix}`));
        // The original factory, over the same folders, reads what the reloaded store wrote.
        const check = new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
          arrayShards: { foo: { dims: 2, factory: make(`${p}/foo`, { separator }) } },
        });
        expect(((await readArray(check, "foo")).values as number[][][])[2]?.[1]).toEqual([1.5, 1.5, 1.5]);
        await check.close();
      });
    }
  }

  it("keeps a writable zip writable for us, while zarr-python reads mode r", async () => {
    const file = `${dir}/append/a.zip`;
    const store = new ShardedStore(new MemoryStore(), { shards: { z: new ZipStore(file, { mode: "a" }) } });
    await store.set("/z/one", new Uint8Array([1]));
    await store.close();
    const config = produce(store);
    expect((config.config.kwargs.shards as Record<string, StoreConfig>).z?.config).toEqual({
      args: [file],
      kwargs: { mode: "r" },
      shardedstore: { mode: "a" },
    });
    const again = reload(config);
    await again.set("/z/two", new Uint8Array([2]));
    await again.close();
    expect(await listAll(new ZipStore(file))).toEqual(["/one", "/two"]);
  });

  it("opens a zip that a config says to open with mode w read-only, and never clobbers it", async () => {
    const file = `${dir}/clobber/a.zip`;
    const w = new ZipStore(file, { mode: "w" });
    await w.set("/zarr.json", GROUP);
    await w.close();
    const zipConfig = (kwargs: Record<string, unknown>) => ({
      name: "ShardedStore",
      module: "shardedstore",
      config: {
        args: [{ name: "ZipStore", module: "zarr.storage", config: { args: ["a.zip"], kwargs } }],
        kwargs: {},
      },
    });
    for (const kwargs of [{ mode: "w" }, {}, { mode: "r" }]) {
      const store = reload(zipConfig(kwargs) as StoreConfig, { baseDir: path.dirname(file) });
      expect((store.base as ZipStore).mode, JSON.stringify(kwargs)).toBe("r");
      await expect(store.set("/x", new Uint8Array([1]))).rejects.toThrow(/read-only/);
      expect(await store.get("/zarr.json")).toEqual(GROUP);
      await store.close();
    }
    expect(await listAll(new ZipStore(file))).toEqual(["/zarr.json"]);
    // Only an explicit "a" opens it for appending.
    const appending = reload(zipConfig({ mode: "a" }) as StoreConfig, { baseDir: path.dirname(file) });
    expect((appending.base as ZipStore).mode).toBe("a");
  });

  it("refuses to describe a zip read from bytes, naming where it is", () => {
    const store = new ShardedStore(new MemoryStore(), { shards: { b: new ZipStore(new Uint8Array(22)) } });
    const err = thrown(() => store.toConfig());
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(
      "config.kwargs.shards.b: a ZipStore read from bytes or a Blob cannot be written in a config (it has no path or URL)",
    );
  });

  it("refuses to describe a store type nobody registered", () => {
    class Odd implements Store {
      get() {
        return undefined;
      }
    }
    const err = thrown(() => new ShardedStore(new MemoryStore(), { shards: { odd: new Odd() } }).toConfig());
    expect(err.message).toBe(
      "config.kwargs.shards.odd: cannot describe a store of type Odd; register it with registerStoreType",
    );
  });

  it("writes no factory for a plain function factory; growing after a reload fails clearly", async () => {
    const store = new ShardedStore(new MemoryStore(), {
      arrayShards: { foo: { dims: 1, factory: () => new MemoryStore() } },
    });
    await writeArray(store, "foo", [1, 2], [1, 2]);
    const config = produce(store);
    expect(config.config.kwargs.array_shard_factories).toBeUndefined();
    const again = reload(config);
    expect((await readArray(again, "foo")).shape).toEqual([1, 2]);
    const meta = JSON.parse(new TextDecoder().decode(await again.get("/foo/zarr.json")));
    meta.shape = [2, 2];
    // Growing the shape creates no index store, so it works; the new row reads as fill.
    await again.set("/foo/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
    expect((await readArray(again, "foo")).values).toEqual([
      ((await readArray(store, "foo")).values as number[][])[0],
      [0, 0],
    ]);
    // Writing into it needs a new index store: a clear error naming the array, index and reason.
    const err = await again.set("/foo/c/1/0", new Uint8Array(8)).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toBe(
      'array shard "foo": cannot create index store [1]: array shard "foo" has no factory in its config (config.kwargs.array_shard_factories.foo)',
    );
  });
});

describe("store types registered by users", () => {
  /** A store of the user's own: a MemoryStore known by a name, kept in a registry of the user's own. */
  class NamedStore extends MemoryStore {
    constructor(readonly label: string) {
      super();
    }
  }
  const named = new Map<string, NamedStore>();
  const namedStore = (label: string) => {
    if (!named.has(label)) named.set(label, new NamedStore(label));
    return named.get(label)!;
  };
  registerStoreType({
    name: "NamedStore",
    module: "my-app",
    configSchema: {
      type: "object",
      properties: {
        args: { type: "array", minItems: 1, maxItems: 1, items: [{ type: "string", pattern: "^[a-z]+$" }] },
        kwargs: { type: "object", additionalProperties: false },
      },
    },
    describes: (s) => s instanceof NamedStore,
    toConfig: (s) => ({
      name: "NamedStore",
      module: "my-app",
      config: { args: [(s as NamedStore).label], kwargs: {} },
    }),
    fromConfig: (c) => namedStore(c.config.args[0] as string),
  });
  const letters = (index: readonly number[]) => index.map((i) => String.fromCharCode(97 + i)).join("");
  const namedFactory = (prefix: string) =>
    Object.assign((index: readonly number[]) => namedStore(`${prefix}${letters(index)}`), {
      factorySpec: { kind: "named", prefix, separator: "/" as const },
    });
  registerFactoryKind("named", (prefix) => namedFactory(prefix));

  it("round-trips, factory included, and the reloaded array grows through it", async () => {
    const store = new ShardedStore(namedStore("base"), {
      shards: { people: namedStore("people") },
      arrayShards: {
        foo: { dims: 1, factory: namedFactory("foo") },
      },
    });
    await writeArray(store, "foo", [2, 2], [1, 2]);
    const config = produce(store);
    expect((config.config.kwargs.shards as Record<string, StoreConfig>).people).toEqual({
      name: "NamedStore",
      module: "my-app",
      config: { args: ["people"], kwargs: {} },
    });
    expect(config.config.kwargs.array_shard_factories).toEqual({
      foo: { kind: "named", prefix: "foo", separator: "/" },
    });
    const again = reload(config);
    expect(produce(again)).toEqual(config);
    const meta = JSON.parse(new TextDecoder().decode(await again.get("/foo/zarr.json")));
    meta.shape = [3, 2];
    await again.set("/foo/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
    expect([...named.keys()].filter((k) => k.startsWith("foo")).sort()).toEqual(["fooa", "foob"]);
    await again.set("/foo/c/2/0", new Uint8Array(8));
    expect([...named.keys()].filter((k) => k.startsWith("foo")).sort()).toEqual(["fooa", "foob", "fooc"]);
  });

  it("checks a user type's config with its own JSON Schema, naming the member", () => {
    const config = {
      name: "ShardedStore",
      module: "shardedstore",
      config: {
        args: [{ name: "NamedStore", module: "my-app", config: { args: ["base"], kwargs: {} } }],
        kwargs: {
          shards: { p: { name: "NamedStore", module: "my-app", config: { args: ["Bad Name"], kwargs: {} } } },
        },
      },
    };
    expect(thrown(() => reload(config as StoreConfig)).message).toBe(
      'config.kwargs.shards.p.config.args[0]: must match pattern "^[a-z]+$"',
    );
    const extra = structuredClone(config);
    (extra.config.kwargs.shards.p.config.kwargs as Record<string, unknown>).colour = "red";
    extra.config.kwargs.shards.p.config.args = ["ok"];
    expect(thrown(() => reload(extra as StoreConfig)).message).toBe(
      "config.kwargs.shards.p.config.kwargs.colour: is not allowed here",
    );
  });
});
