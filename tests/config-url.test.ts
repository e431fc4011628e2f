import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { openShardedStore as openIsomorphic } from "../src/index.js";
import {
  ConfigError,
  FetchStore,
  NotWritableError,
  openShardedStore,
  S3Store,
  ShardedStore,
} from "../src/node.js";
import { ZipStore } from "../src/zip-store.js";
import type { Decoded } from "./helpers/arrays.js";
import { arrayPaths, readAll, readReference, uploadDir, writeDemo } from "./helpers/demo-folder.js";
import { type StaticServer, startStaticServer } from "./helpers/http-server.js";
import { type S3TestServer, startS3Server } from "./helpers/s3-server.js";

let dir: string;
let server: StaticServer;
let s3: S3TestServer;
let names: string[];
let reference: Record<string, Decoded>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-config-url-"));
  await writeDemo(dir);
  names = await arrayPaths(path.join(dir, "single.zarr"));
  reference = await readReference(path.join(dir, "single.zarr"));
  server = await startStaticServer(dir);
  s3 = await startS3Server();
  await s3.createBucket("demo");
  await uploadDir(s3.client(), "demo", path.join(dir, "sharded"), "comp/sharded");
}, 120_000);

afterAll(async () => {
  await server?.close();
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Each store a composition routes to, by kind. */
function storeKinds(store: ShardedStore): string[] {
  const all = [
    store.base,
    ...store.shardMounts.values(),
    ...[...store.arrayMounts.values()].flatMap((m) => [...m.stores.values()].map((s) => s.store)),
  ];
  return [...new Set(all.map((s) => s.constructor.name))].sort();
}

describe("opening a CLI-written composition from its URL, unmodified", () => {
  it("has arrays to compare (the demo writes several, some sharded)", () => {
    expect(names.length).toBeGreaterThanOrEqual(3);
  });

  for (const flavour of ["sharded", "zip"]) {
    it(`reads every array of ${flavour}/composition.json over HTTP equal to single.zarr (node entry)`, async () => {
      const store = await openShardedStore(`${server.url}/${flavour}/composition.json`);
      expect(await readAll(store, names)).toEqual(reference);
      expect(storeKinds(store)).toEqual([flavour === "zip" ? "ZipStore" : "FetchStore"]);
      // Nothing was read from the local folder: every store is a URL on the server.
      const requested = new Set(server.requests.map((r) => r.path.split("/")[1]));
      expect(requested.has(flavour)).toBe(true);
    });

    it(`reads ${flavour}/composition.json over HTTP with the isomorphic entry too`, async () => {
      const store = await openIsomorphic(`${server.url}/${flavour}/composition.json`);
      expect(await readAll(store, names)).toEqual(reference);
    });
  }

  it("fromConfig with a URL baseDir maps relative directory stores to FetchStores at the resolved URL", async () => {
    const config = JSON.parse(await readFile(path.join(dir, "sharded/composition.json"), "utf8"));
    const store = ShardedStore.fromConfig(config, { baseDir: `${server.url}/sharded` });
    expect(store.base).toBeInstanceOf(FetchStore);
    expect((store.base as FetchStore).url).toBe(`${server.url}/sharded/data.zarr`);
    expect(await readAll(store, names)).toEqual(reference);
  });

  it("maps relative zips to ZipStores over the URL", async () => {
    const config = JSON.parse(await readFile(path.join(dir, "zip/composition.json"), "utf8"));
    const store = ShardedStore.fromConfig(config, { baseDir: `${server.url}/zip/` });
    expect(store.base).toBeInstanceOf(ZipStore);
    expect((store.base as ZipStore).url).toBe(`${server.url}/zip/data.zarr.zip`);
  });

  it("an array-shard factory from a URL config reads, but growing the array says why not", async () => {
    const store = await openShardedStore(`${server.url}/sharded/composition.json`);
    const sharded = [...store.arrayMounts.keys()];
    expect(sharded.length).toBeGreaterThan(0);
    const mount = sharded[0] as string;
    const arr = await zarr.open(zarr.root(store).resolve(mount), { kind: "array" });
    const grown = [...arr.shape];
    grown[0] = (grown[0] ?? 0) + arr.chunks[0]! * 3;
    const doc = JSON.parse(new TextDecoder().decode(await store.get(`/${mount}/zarr.json`)));
    doc.shape = grown;
    const err = await store.set(`/${mount}/zarr.json`, new TextEncoder().encode(JSON.stringify(doc))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotWritableError);
    expect(String((err as Error).message)).toMatch(/read-only/);
  });

  it("opens a config by file:// URL like its path", async () => {
    const url = pathToFileURL(path.join(dir, "sharded/composition.json")).href;
    const store = await openShardedStore(url);
    expect(await readAll(store, names)).toEqual(reference);
  });

  it("opens s3://bucket/…/composition.json: directory stores become S3Stores under the config's prefix", async () => {
    const store = await openShardedStore("s3://demo/comp/sharded/composition.json", {
      remote: { s3: s3.clientConfig },
    });
    expect(store.base).toBeInstanceOf(S3Store);
    expect((store.base as S3Store).prefix).toBe("comp/sharded/data.zarr");
    expect(await readAll(store, names)).toEqual(reference);
    await store.close();
  });

  it("a missing config URL is a ConfigError naming it", async () => {
    await expect(openShardedStore(`${server.url}/nope/composition.json`)).rejects.toThrow(
      /nope\/composition\.json: not found/,
    );
    await expect(openShardedStore(`${server.url}/single.zarr/zarr.json`)).rejects.toBeInstanceOf(ConfigError);
  });

  it("the isomorphic openShardedStore refuses paths, pointing at shardedstore/node", async () => {
    await expect(openIsomorphic(path.join(dir, "sharded/composition.json"))).rejects.toThrow(
      /shardedstore\/node/,
    );
  });
});
