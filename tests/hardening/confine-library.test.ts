import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { isInsideUrl, makeResolver } from "../../src/config/locations.js";
import { isInside } from "../../src/config/paths.js";
import {
  ConfigError,
  DirectoryStore,
  openShardedStore,
  ShardedStore,
  type StoreConfig,
  StoreError,
} from "../../src/node.js";
import { isRealInside, realPathSoFar } from "../../src/real-paths.js";
import { type StaticServer, startStaticServer } from "../helpers/http-server.js";

let dir: string;
let outside: string;
let server: StaticServer;
const enc = new TextEncoder();

const dirStore = (p: string): StoreConfig => ({
  name: "DirectoryStore",
  module: "zarr.storage",
  config: { args: [p], kwargs: {} },
});
const composition = (
  base: StoreConfig,
  shards: Record<string, StoreConfig> = {},
  extra = {},
): StoreConfig => ({
  name: "ShardedStore",
  module: "shardedstore",
  config: { args: [base], kwargs: { shards, ...extra } },
});

async function writeConfig(folder: string, config: unknown): Promise<string> {
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, "composition.json");
  await writeFile(file, JSON.stringify(config));
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-confine-"));
  outside = path.join(dir, "outside");
  await mkdir(path.join(outside, "secret.zarr"), { recursive: true });
  await writeFile(path.join(outside, "secret.zarr", "zarr.json"), '{"zarr_format":3,"node_type":"group"}');
  await writeFile(path.join(outside, "secret.zarr", "token"), "s3cr3t");
  server = await startStaticServer(outside);
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("confined configs resolve real paths", () => {
  it("refuses a store reached through a symbolic link that leaves the config's folder", async () => {
    const folder = path.join(dir, "c1");
    await mkdir(folder, { recursive: true });
    await symlink(outside, path.join(folder, "link"));
    const file = await writeConfig(
      folder,
      composition(dirStore("base.zarr"), { s: dirStore("link/secret.zarr") }),
    );
    const err = await openShardedStore(file, { confine: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /shards\.s\.config\.args\[0\]: .*symbolic link .*outside the config's folder/,
    );
    // Unconfined, the same config opens (the caller trusts it).
    const store = await openShardedStore(file);
    expect(new TextDecoder().decode(await store.get("/s/token"))).toBe("s3cr3t");
  });

  it("refuses a store whose folder is itself a link leading out, even one that does not exist yet", async () => {
    const folder = path.join(dir, "c2");
    await mkdir(folder, { recursive: true });
    await symlink(outside, path.join(folder, "data.zarr"));
    const file = await writeConfig(folder, composition(dirStore("data.zarr/new.zarr")));
    await expect(openShardedStore(file, { confine: true })).rejects.toThrow(/symbolic link/);
    expect(await readdir(outside)).toEqual(["secret.zarr"]);
  });

  it("accepts a config folder reached through a link (only what leaves the real folder counts)", async () => {
    const real = path.join(dir, "c3-real");
    await mkdir(path.join(real, "base.zarr"), { recursive: true });
    await writeFile(path.join(real, "base.zarr", "zarr.json"), '{"zarr_format":3,"node_type":"group"}');
    await writeConfig(real, composition(dirStore("base.zarr")));
    await symlink(real, path.join(dir, "c3-link"));
    const store = await openShardedStore(path.join(dir, "c3-link", "composition.json"), { confine: true });
    expect(await store.get("/zarr.json")).toBeDefined();
  });

  it("refuses index stores an array-shard factory would create through a link leaving the folder", async () => {
    const folder = path.join(dir, "c4");
    await mkdir(path.join(folder, "shards", "foo"), { recursive: true });
    await symlink(outside, path.join(folder, "shards", "foo", "0"));
    const file = await writeConfig(
      folder,
      composition(
        dirStore("base.zarr"),
        {},
        {
          array_shard_dims: { foo: 2 },
          array_shard_factories: { foo: { kind: "directory", prefix: "shards/foo", separator: "/" } },
        },
      ),
    );
    const store = await openShardedStore(file, { confine: true });
    const err = await (async () => {
      const arr = await zarr.create(zarr.root(store).resolve("foo"), {
        shape: [2, 2, 4],
        chunkShape: [1, 1, 4],
        dtype: "int32",
      });
      await zarr.set(arr, null, { data: new Int32Array(16).fill(7), shape: [2, 2, 4], stride: [8, 4, 1] });
    })().catch((e: unknown) => e);
    const messages = `${(err as Error)?.message} ${((err as Error)?.cause as Error | undefined)?.message}`;
    expect(messages).toMatch(/foo\/0\/0\.zarr leads through a symbolic link .*outside the config's folder/);
    expect(await readdir(outside)).toEqual(["secret.zarr"]);
  });
});

describe("DirectoryStore and symbolic links", () => {
  it("refuses writes and deletes through a linked folder leaving the root, always", async () => {
    const root = path.join(dir, "d1");
    await mkdir(root, { recursive: true });
    await symlink(outside, path.join(root, "out"));
    const store = new DirectoryStore(root);
    await expect(store.set("/out/evil", enc.encode("x"))).rejects.toThrow(
      /"out" is a symlink that leads outside the store's root/,
    );
    await expect(store.delete("/out/secret.zarr/token")).rejects.toBeInstanceOf(StoreError);
    expect(await readdir(outside)).toEqual(["secret.zarr"]);
    expect(await readdir(path.join(outside, "secret.zarr"))).toContain("token");
    await store.set("/in/ok", enc.encode("fine"));
    expect(await store.get("/in/ok")).toEqual(enc.encode("fine"));
  });

  it("refuses reads through such a link only when confined", async () => {
    const root = path.join(dir, "d2");
    await mkdir(root, { recursive: true });
    await symlink(path.join(outside, "secret.zarr", "token"), path.join(root, "token"));
    expect(new TextDecoder().decode(await new DirectoryStore(root).get("/token"))).toBe("s3cr3t");
    const confined = new DirectoryStore(root, { confine: true });
    await expect(confined.get("/token")).rejects.toThrow(/symlink that leads outside the store's root/);
    await expect(confined.getRange("/token", { offset: 0, length: 2 })).rejects.toBeInstanceOf(StoreError);
    expect(await confined.get("/missing")).toBeUndefined();
  });
});

describe("URLs in configs are followed only when allowed", () => {
  const fsStore = (url: string): StoreConfig => ({
    name: "FSStore",
    module: "zarr.storage",
    config: { args: [url], kwargs: { mode: "r" } },
  });

  it("a confined config may not name a URL (no request is made) unless allowUrls", async () => {
    const folder = path.join(dir, "u1");
    const file = await writeConfig(folder, composition(fsStore(`${server.url}/secret.zarr`)));
    const before = server.requests.length;
    await expect(openShardedStore(file, { confine: true })).rejects.toThrow(
      /config\.args\[0\]: names the URL .*allowUrls/,
    );
    expect(server.requests.length).toBe(before);
    const store = await openShardedStore(file, { confine: true, allowUrls: true });
    expect(new TextDecoder().decode(await store.get("/token"))).toBe("s3cr3t");
  });

  it("S3 stores in a confined config need allowUrls too (bucket and endpoint)", () => {
    const s3 = {
      name: "S3Store",
      module: "shardedstore",
      config: { args: [], kwargs: { bucket: "b", endpoint: "http://169.254.169.254" } },
    };
    expect(() => ShardedStore.fromConfig(composition(s3), { baseDir: dir, confine: true })).toThrow(
      /kwargs\.bucket: names the URL "s3:\/\/b\/"/,
    );
  });

  it("a config read from a URL keeps relative and absolute paths on its server, never local files", () => {
    const base = `${server.url}/comp/`;
    const resolve = makeResolver({ baseDir: base, confine: false, allowUrls: false });
    expect(resolve("a.zarr", "x")).toBe(`${server.url}/comp/a.zarr`);
    expect(resolve("/etc/passwd", "x")).toBe(`${server.url}/etc/passwd`);
    expect(() => resolve("file:///etc/passwd", "x")).toThrow(/local file/);
    const confined = makeResolver({ baseDir: base, confine: true, allowUrls: false });
    expect(() => confined("../other.zarr", "x")).toThrow(/outside/);
    expect(() => confined("http://169.254.169.254/latest", "x")).toThrow(/names the URL/);
    expect(confined(`${server.url}/comp/deep/b.zarr`, "x")).toBe(`${server.url}/comp/deep/b.zarr`);
  });
});

const segment = fc.constantFrom("data", "proj", "proj-old", "proj.old", "p", "x.zarr", "..", ".", "", "a b");
const posixPath = fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join("/")}`);

describe("isInside (property)", () => {
  it("a sibling that merely starts with the same letters is not inside", () => {
    expect(isInside("/data/proj", "/data/proj-old/x.zarr")).toBe(false);
    expect(isInside("/data/proj", "/data/proj/x.zarr")).toBe(true);
  });

  it("agrees with node's path.posix.relative over random paths", () => {
    fc.assert(
      fc.property(posixPath, posixPath, (base, p) => {
        const rel = path.posix.relative(base, p);
        const expected =
          rel === "" || (rel !== ".." && !rel.startsWith("../") && !path.posix.isAbsolute(rel));
        expect(isInside(base, p)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it("isRealInside and isInsideUrl agree with isInside on the same paths", () => {
    fc.assert(
      fc.property(posixPath, posixPath, (base, p) => {
        const b = path.posix.resolve(base);
        const q = path.posix.resolve(p);
        expect(isRealInside(b, q)).toBe(isInside(b, q));
        const enc = (s: string) => s.split("/").map(encodeURIComponent).join("/");
        expect(isInsideUrl(`http://h${enc(b)}`, `http://h${enc(q)}`)).toBe(isInside(b, q));
        expect(isInsideUrl(`http://h${enc(b)}`, `http://other${enc(q)}`)).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it("realPathSoFar resolves links in the part that exists and keeps the rest", async () => {
    const link = path.join(dir, "rp-link");
    await symlink(outside, link);
    expect(realPathSoFar(path.join(link, "not", "yet"))).toBe(
      path.join(realPathSoFar(outside), "not", "yet"),
    );
  });
});

describe("a config read from s3:// names no other server", () => {
  it("refuses an s3:// URL whose endpoint member points elsewhere, even below the config's folder", () => {
    const resolve = makeResolver({ baseDir: "s3://bucket/demo/", confine: true, allowUrls: false });
    expect(resolve("s3://bucket/demo/a.zarr.zip", "x")).toBe("s3://bucket/demo/a.zarr.zip");
    expect(resolve("a.zarr.zip", "x")).toBe("s3://bucket/demo/a.zarr.zip");
    for (const evil of [
      "s3://bucket/demo/a.zarr.zip?endpoint=http://169.254.169.254",
      "s3://bucket/demo/a.zarr.zip?region=x&endpoint=http%3A%2F%2F10.0.0.1%3A9000",
    ]) {
      expect(isInsideUrl("s3://bucket/demo/", evil)).toBe(false);
      expect(() => resolve(evil, "config.args[0]")).toThrow(/config\.args\[0\].*allowUrls/);
    }
  });
});
