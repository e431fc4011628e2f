import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/main.js";
import {
  ConfigError,
  copyStore,
  DirectoryStore,
  FetchStore,
  MemoryStore,
  openShardedStore,
  S3Store,
  ShardedStore,
  type Store,
  toTensorstoreSpec,
  toZipStoreWithPrefix,
  ZipStore,
} from "../src/node.js";
import { listAll } from "./helpers/arrays.js";
import { BIG_ARRAYS, writeBigComposition } from "./helpers/big-composition.js";
import { cli } from "./helpers/cli-in-process.js";
import { type StaticServer, startStaticServer } from "./helpers/http-server.js";
import { type S3TestServer, startS3Server } from "./helpers/s3-server.js";
import { tensorstoreRead } from "./helpers/tensorstore-read.js";

const SEED = fileURLToPath(new URL("./fixtures/python-seed/", import.meta.url));
const dec = new TextDecoder();

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "ss-tensorstore-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every array of a store: its path and tensorstore driver, found from the metadata documents it lists. */
async function arraysOf(store: Store): Promise<{ path: string; driver: "zarr" | "zarr3" }[]> {
  const out: { path: string; driver: "zarr" | "zarr3" }[] = [];
  for (const key of await listAll(store)) {
    if (key.endsWith("/.zarray")) out.push({ path: key.slice(1, -8), driver: "zarr" });
    if (key.endsWith("/zarr.json")) {
      const doc = JSON.parse(dec.decode(await store.get(key as `/${string}`))) as { node_type?: string };
      if (doc.node_type === "array") out.push({ path: key.slice(1, -10), driver: "zarr3" });
    }
  }
  return out;
}

/**
 * Reads every array of `store` with tensorstore through the exported spec and from `single` (a
 * monolithic copy), and checks the values and the spec's key listing against ours.
 */
async function expectSameThroughTensorstore(
  store: ShardedStore,
  single: string,
  minArrays: number,
  unreadable: string[] = [],
) {
  const spec = await toTensorstoreSpec(store);
  const arrays = await arraysOf(store);
  expect(arrays.length).toBeGreaterThanOrEqual(minArrays);
  const got = await tensorstoreRead(
    spec,
    arrays.map((a) => ({ ...a, ref: { driver: "file", path: `${single}/${a.path}/` } })),
    true,
  );
  for (const a of arrays) {
    const r = got.arrays[a.path];
    expect(r?.error, a.path).toBeUndefined();
    if (unreadable.includes(a.path)) {
      // tensorstore 0.1.85 reads no string arrays (v2 NumPy "<U5", v3 "string"), not even from the reference copy.
      expect(r?.unreadable, a.path).toMatch(/Unsupported zarr dtype: "<U5"|string data type is not one of/);
      continue;
    }
    expect(r?.unreadable, a.path).toBeUndefined();
    expect(r!.got, a.path).toEqual(r!.want);
  }
  const ours = (await listAll(store)).map((k) => k.slice(1));
  expect(got.keys).toEqual(ours);
  return spec;
}

describe("toTensorstoreSpec", () => {
  describe("the demo composition (Zarr v3)", () => {
    let demo: string;
    beforeAll(async () => {
      demo = path.join(work, "demo");
      // The demo's report is not this test's subject: cli() captures it.
      expect((await cli(["demo", "--out", demo])).code).toBe(0);
    }, 120_000);

    for (const flavour of ["sharded", "zip"]) {
      it(`reads every array of the ${flavour} composition through one kvstack spec equal to single.zarr`, async () => {
        const store = await openShardedStore(path.join(demo, flavour, "composition.json"));
        const spec = await expectSameThroughTensorstore(store, path.join(demo, "single.zarr"), 11, [
          "people",
          "species",
        ]);
        const drivers = new Set((spec.layers as { base: { driver: string } }[]).map((l) => l.base.driver));
        expect([...drivers]).toEqual([flavour === "zip" ? "zip" : "file"]);
        await store.close();
      });
    }
  });

  describe("the Python original's fixtures (Zarr v2)", () => {
    for (const flavour of ["slash", "dot"]) {
      it(`reads every array of the ${flavour} composition equal to the original's single.zarr`, async () => {
        const store = await openShardedStore(path.join(SEED, flavour, "config.json"));
        await expectSameThroughTensorstore(store, path.join(SEED, flavour, "single.zarr"), 13, [
          "people",
          "species",
        ]);
      });
    }
  });

  describe("indices ≥ 10 on 1 and 2 sharded dims, v2 and v3, some index stores absent", () => {
    let big: ShardedStore;
    let dir: string;
    beforeAll(async () => {
      dir = path.join(work, "big");
      big = await writeBigComposition(dir);
    }, 120_000);

    it("directory stores: every array reads equal and the listing is ours", async () => {
      const spec = await expectSameThroughTensorstore(big, path.join(dir, "single.zarr"), BIG_ARRAYS.length);
      const layers = spec.layers as { prefix?: string; inclusive_min?: string; exclusive_max?: string }[];
      // A v2 index store is mapped by a key range over the digits, never by a prefix that would show its .zarray.
      expect(
        layers.some((l) => l.inclusive_min === "v2/dot/10.3.0" && l.exclusive_max === "v2/dot/10.3.:"),
      ).toBe(true);
      expect(layers.some((l) => l.prefix === "v3/two/c/10/11/")).toBe(true);
    });

    it("zip stores: every array reads equal and the listing is ours", async () => {
      const zipped = await big.mapShards(toZipStoreWithPrefix(path.join(dir, "zips", "data")));
      const spec = await expectSameThroughTensorstore(
        zipped,
        path.join(dir, "single.zarr"),
        BIG_ARRAYS.length,
      );
      expect((spec.layers as { base: { driver: string } }[]).every((l) => l.base.driver === "zip")).toBe(
        true,
      );
      await zipped.close();
    });

    it("a composition nested as a group shard becomes a nested kvstack", async () => {
      const outer = new ShardedStore(new DirectoryStore(path.join(dir, "outer.zarr")), {
        shards: { inner: big },
      });
      await outer.set(
        "/zarr.json",
        new TextEncoder().encode('{"zarr_format":3,"node_type":"group","attributes":{}}'),
      );
      const spec = await toTensorstoreSpec(outer);
      const inner = (spec.layers as { prefix?: string; base: { driver: string } }[]).find(
        (l) => l.prefix === "inner/",
      );
      expect(inner?.base.driver).toBe("kvstack");
      const got = await tensorstoreRead(
        spec,
        [
          {
            path: "inner/v3/two",
            driver: "zarr3",
            ref: { driver: "file", path: `${dir}/single.zarr/v3/two/` },
          },
          {
            path: "inner/v2/dot",
            driver: "zarr",
            ref: { driver: "file", path: `${dir}/single.zarr/v2/dot/` },
          },
        ],
        true,
      );
      expect(got.arrays["inner/v3/two"]!.got).toEqual(got.arrays["inner/v3/two"]!.want);
      expect(got.arrays["inner/v2/dot"]!.got).toEqual(got.arrays["inner/v2/dot"]!.want);
      expect(got.keys).toEqual((await listAll(outer)).map((k) => k.slice(1)));
    });
  });

  describe("HTTP shards", () => {
    let server: StaticServer;
    beforeAll(async () => {
      server = await startStaticServer(path.join(SEED, "slash"));
    });
    afterAll(() => server?.close());

    it("maps FetchStores to tensorstore's http driver and reads equal (v2 fixtures over HTTP)", async () => {
      const local = await openShardedStore(path.join(SEED, "slash", "config.json"));
      const url = (p: string) => `${server.url}/${p}`;
      const shards: Record<string, Store> = {};
      for (const m of local.shardMounts.keys()) shards[m] = new FetchStore(url(`${m}.zarr`));
      const arrayShards: Record<string, { dims: number; factory: (i: readonly number[]) => Store }> = {};
      for (const [p, m] of local.arrayMounts) {
        const prefix =
          p === "simulation/coarse/foo"
            ? "array_shards/simulation/coarse/foo"
            : "array_shards/simulation/fine/foo";
        arrayShards[p] = {
          dims: m.dims,
          factory: (i) => new FetchStore(url(`${prefix}/${i.join("/")}.zarr`)),
        };
      }
      const config = JSON.parse(await readFile(path.join(SEED, "slash", "config.json"), "utf8")) as {
        config: { kwargs: { array_shards: Record<string, Record<string, { config: { args: string[] } }>> } };
      };
      // Index stores of the original's layout, found from its config (the factories above are a guess at it).
      const stores: Record<string, { index: number[]; store: Store }[]> = {};
      for (const [p, byId] of Object.entries(config.config.kwargs.array_shards)) {
        stores[p] = Object.entries(byId).map(([id, c]) => ({
          index: id.split("/").map(Number),
          store: new FetchStore(url(c.config.args[0]!)),
        }));
      }
      const remote = new ShardedStore(new FetchStore(url("base.zarr")), {
        shards,
        arrayShards: Object.fromEntries(
          Object.entries(arrayShards).map(([p, s]) => [p, { ...s, stores: stores[p] ?? [] }]),
        ),
      });
      const spec = await toTensorstoreSpec(remote);
      expect((spec.layers as { base: { driver: string } }[]).every((l) => l.base.driver === "http")).toBe(
        true,
      );
      const arrays = (await arraysOf(local)).map((a) => ({
        ...a,
        ref: { driver: "file", path: `${SEED}slash/single.zarr/${a.path}/` },
      }));
      const got = await tensorstoreRead(spec, arrays);
      expect(Object.keys(got.arrays)).toHaveLength(13);
      for (const a of arrays) expect(got.arrays[a.path]!.got, a.path).toEqual(got.arrays[a.path]!.want);
    });

    it("maps a zip read over HTTP to tensorstore's zip driver over http", async () => {
      const zipDir = path.join(work, "zip-http");
      const local = await openShardedStore(path.join(SEED, "slash", "config.json"));
      const zipped = await local.mapShards(toZipStoreWithPrefix(path.join(zipDir, "data")));
      await zipped.close();
      const zipServer = await startStaticServer(zipDir);
      try {
        const remote = new ShardedStore(new ZipStore(`${zipServer.url}/data.zarr.zip`), {
          shards: { observations: new ZipStore(`${zipServer.url}/data/observations.zarr.zip`) },
        });
        const spec = await toTensorstoreSpec(remote);
        expect(spec.layers).toEqual([
          {
            prefix: "",
            base: {
              driver: "zip",
              base: { driver: "http", base_url: zipServer.url, path: "/data.zarr.zip" },
              path: "",
            },
          },
          {
            prefix: "observations/",
            strip_prefix: 13,
            base: {
              driver: "zip",
              base: { driver: "http", base_url: zipServer.url, path: "/data/observations.zarr.zip" },
              path: "",
            },
          },
        ]);
        const got = await tensorstoreRead(spec, [
          {
            path: "observations/stations/temperature",
            driver: "zarr",
            ref: { driver: "file", path: `${SEED}slash/single.zarr/observations/stations/temperature/` },
          },
          {
            path: "heights",
            driver: "zarr",
            ref: { driver: "file", path: `${SEED}slash/single.zarr/heights/` },
          },
        ]);
        const t = got.arrays["observations/stations/temperature"]!;
        expect(t.error).toBeUndefined();
        expect(t.got).toEqual(t.want);
        expect(got.arrays.heights!.got).toEqual(got.arrays.heights!.want);
      } finally {
        await zipServer.close();
      }
    });
  });

  describe("S3 shards", () => {
    let s3: S3TestServer;
    const env = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    beforeAll(async () => {
      s3 = await startS3Server();
      await s3.createBucket("zarr");
      // tensorstore's s3 driver takes credentials from the environment (s3rver's built-in account).
      process.env.AWS_ACCESS_KEY_ID = s3.clientConfig.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.clientConfig.credentials.secretAccessKey;
    });
    afterAll(async () => {
      await s3?.close();
      for (const [k, v] of [
        ["AWS_ACCESS_KEY_ID", env.id],
        ["AWS_SECRET_ACCESS_KEY", env.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it("maps S3Stores to tensorstore's s3 driver: every array reads equal and the listing is ours (v2 fixtures in s3rver)", async () => {
      const local = await openShardedStore(path.join(SEED, "dot", "config.json"));
      const remote = await local.mapShards(async (store, mount, index) => {
        const prefix = `dot/${mount === "" ? "base" : mount}${index ? `/${index.join(".")}` : ""}.zarr`;
        const target = new S3Store({ bucket: "zarr", prefix, ...s3.clientConfig });
        await copyStore(store, target);
        return target;
      });
      const spec = await toTensorstoreSpec(remote);
      const layers = spec.layers as { base: Record<string, unknown> }[];
      expect(layers[0]!.base).toEqual({
        driver: "s3",
        bucket: "zarr",
        path: "dot/base.zarr/",
        endpoint: s3.endpoint,
        aws_region: "us-east-1",
      });
      expect(layers.every((l) => l.base.driver === "s3")).toBe(true);
      await expectSameThroughTensorstore(remote, path.join(SEED, "dot", "single.zarr"), 13, [
        "people",
        "species",
      ]);
      await remote.close();
    });
  });

  it("writes file paths below relativeTo relative to it (tensorstore resolves them against its working directory)", async () => {
    const root = path.join(SEED, "slash");
    const store = await openShardedStore(path.join(root, "config.json"));
    const spec = await toTensorstoreSpec(store, { relativeTo: root });
    const files = (spec.layers as { base: { driver: string; path: string } }[]).map((l) => l.base.path);
    expect(files).toContain("base.zarr/");
    expect(files).toContain("array_shards/fine_foo/5/2.zarr/");
    expect(files.every((p) => !p.startsWith("/") && !p.startsWith(".."))).toBe(true);
    const absolute = await toTensorstoreSpec(store);
    const abs = (absolute.layers as { base: { path: string } }[]).map((l) => l.base.path);
    expect(abs).toEqual(files.map((p) => `${root}/${p}`));
  });

  describe("what cannot be expressed", () => {
    it("refuses a MemoryStore shard with an error naming its mount", async () => {
      const store = new ShardedStore(new DirectoryStore(path.join(work, "mem-base")), {
        shards: { scratch: new MemoryStore() },
      });
      await expect(toTensorstoreSpec(store)).rejects.toThrow(ConfigError);
      await expect(toTensorstoreSpec(store)).rejects.toThrow(
        /^config\.kwargs\.shards\.scratch: a MemoryStore has no location tensorstore can open/,
      );
    });

    it("refuses a user store with an error naming where it is mounted", async () => {
      const custom: Store = { get: () => undefined };
      const store = new ShardedStore(custom);
      await expect(toTensorstoreSpec(store)).rejects.toThrow(
        /^config\.args\[0\]: Object cannot be described/,
      );
    });

    it("refuses something that is not a composition", async () => {
      await expect(toTensorstoreSpec(new MemoryStore() as unknown as ShardedStore)).rejects.toThrow(
        /needs a ShardedStore, got MemoryStore/,
      );
    });
  });
});

describe("shardedstore export --tensorstore", () => {
  it("writes the spec to --out, and --array gives a whole TensorStore spec tensorstore opens", async () => {
    const out = path.join(work, "spec.json");
    const config = path.join(SEED, "dot", "config.json");
    const write = process.stdout.write;
    const printed: string[] = [];
    process.stdout.write = ((s: string, cb?: unknown) => {
      printed.push(String(s));
      if (typeof cb === "function") cb();
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await run(["node", "shardedstore", "export", config, "--tensorstore", "--out", out])).toBe(0);
      expect(
        await run([
          "node",
          "shardedstore",
          "export",
          config,
          "--tensorstore",
          "--array",
          "simulation/fine/foo",
        ]),
      ).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(printed[0]).toMatch(/^wrote .*spec\.json: a tensorstore kvstack spec with \d+ layers\n$/);
    const kv = JSON.parse(await readFile(out, "utf8")) as { driver: string };
    expect(kv.driver).toBe("kvstack");
    const full = JSON.parse(printed.slice(1).join("")) as { driver: string; kvstore: { path: string } };
    expect(full.driver).toBe("zarr");
    expect(full.kvstore.path).toBe("simulation/fine/foo/");
    const got = await tensorstoreRead(full.kvstore, [
      {
        path: "simulation/coarse/foo",
        driver: "zarr",
        ref: { driver: "file", path: `${SEED}dot/single.zarr/simulation/coarse/foo/` },
      },
    ]);
    expect(got.arrays["simulation/coarse/foo"]!.got).toEqual(got.arrays["simulation/coarse/foo"]!.want);
  });

  it("fails with a usage error without --tensorstore or for a missing array", async () => {
    const config = path.join(SEED, "dot", "config.json");
    const err = process.stderr.write;
    const said: string[] = [];
    process.stderr.write = ((s: string, cb?: unknown) => {
      said.push(String(s));
      if (typeof cb === "function") cb();
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await run(["node", "shardedstore", "export", config])).toBe(2);
      expect(await run(["node", "shardedstore", "export", config, "--tensorstore", "--array", "nope"])).toBe(
        2,
      );
    } finally {
      process.stderr.write = err;
    }
    expect(said[0]).toBe("error: choose what to export: --tensorstore\n");
    expect(said[1]).toMatch(/^error: no array at "nope" in /);
  });
});
