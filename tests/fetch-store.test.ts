import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { isShardedStoreError, NotWritableError, StoreError } from "../src/errors.js";
import { FetchStore } from "../src/fetch-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath } from "../src/types.js";
import { readArray } from "./helpers/arrays.js";
import { type StaticServer, startStaticServer } from "./helpers/http-server.js";

const SLASH = new URL("./fixtures/python-seed/slash/", import.meta.url).pathname;
const SINGLE = `${SLASH}single.zarr`;
const VALUES = JSON.parse(readFileSync(`${SLASH}values.json`, "utf8")) as Record<
  string,
  { shape: number[]; values: unknown }
>;
const TEMPERATURE_CHUNK = "/observations/stations/temperature/0/0";

let dir: string;
let blob: Uint8Array;
let server: StaticServer;
let noRanges: StaticServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-fetch-"));
  blob = new Uint8Array(100).map((_, i) => i);
  await writeFile(path.join(dir, "blob"), blob);
  await writeFile(path.join(dir, "empty"), new Uint8Array(0));
  await mkdir(path.join(dir, "données", "a b"), { recursive: true });
  await writeFile(path.join(dir, "données", "a b", "x#?.json"), "ü");
  server = await startStaticServer(dir);
  noRanges = await startStaticServer(dir, { ranges: false });
});

afterAll(async () => {
  await server.close();
  await noRanges.close();
  await rm(dir, { recursive: true, force: true });
});

describe("FetchStore", () => {
  it("reads whole values and returns undefined for missing keys", async () => {
    const s = new FetchStore(server.url);
    expect(await s.get("/blob")).toEqual(blob);
    expect(await s.get("/empty")).toEqual(new Uint8Array(0));
    expect(await s.get("/nope")).toBeUndefined();
    expect(await s.get("/a/b/c/missing.json")).toBeUndefined();
  });

  it("percent-encodes each key segment, so unicode, spaces, # and ? reach the right file", async () => {
    const s = new FetchStore(server.url);
    server.requests.length = 0;
    expect(new TextDecoder().decode(await s.get("/données/a b/x#?.json"))).toBe("ü");
    expect(server.requests.map((r) => r.path)).toEqual(["/données/a b/x#?.json"]);
  });

  it("reads offset/length ranges with a Range header, and a suffix with bytes=-n", async () => {
    const s = new FetchStore(server.url);
    server.requests.length = 0;
    expect(await s.getRange("/blob", { offset: 10, length: 5 })).toEqual(blob.slice(10, 15));
    expect(await s.getRange("/blob", { suffixLength: 7 })).toEqual(blob.slice(93));
    expect(server.requests.map((r) => r.range)).toEqual(["bytes=10-14", "bytes=-7"]);
  });

  it("clamps ranges at the end of the value, as the other stores do", async () => {
    const s = new FetchStore(server.url);
    expect(await s.getRange("/blob", { offset: 95, length: 50 })).toEqual(blob.slice(95));
    expect(await s.getRange("/blob", { suffixLength: 500 })).toEqual(blob);
    expect(await s.getRange("/blob", { offset: 100, length: 3 })).toEqual(new Uint8Array(0));
    expect(await s.getRange("/blob", { offset: 0, length: 0 })).toEqual(new Uint8Array(0));
    expect(await s.getRange("/blob", { suffixLength: 0 })).toEqual(new Uint8Array(0));
    expect(await s.getRange("/empty", { suffixLength: 4 })).toEqual(new Uint8Array(0));
  });

  it("returns undefined for a range of a missing key, including a zero-length one", async () => {
    const s = new FetchStore(server.url);
    expect(await s.getRange("/nope", { offset: 0, length: 2 })).toBeUndefined();
    expect(await s.getRange("/nope", { suffixLength: 2 })).toBeUndefined();
    expect(await s.getRange("/nope", { offset: 0, length: 0 })).toBeUndefined();
  });

  it("slices locally when the server ignores Range, downloading the whole body once per key", async () => {
    const s = new FetchStore(noRanges.url);
    noRanges.requests.length = 0;
    expect(await s.getRange("/blob", { offset: 10, length: 5 })).toEqual(blob.slice(10, 15));
    expect(await s.getRange("/blob", { suffixLength: 7 })).toEqual(blob.slice(93));
    expect(await s.getRange("/blob", { offset: 120, length: 5 })).toEqual(new Uint8Array(0));
    expect(noRanges.requests.map((r) => r.range)).toEqual(["bytes=10-14"]);
  });

  it("refuses a whole body over fullBodyLimit from a server that ignores Range, naming the limit", async () => {
    const s = new FetchStore(noRanges.url, { fullBodyLimit: 50 });
    const err = await s.getRange("/blob", { offset: 0, length: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(String(err)).toMatch(
      /getRange "\/blob" failed: the server ignored Range .*100 bytes.*50-byte fullBodyLimit/,
    );
  });

  it("rejects negative or fractional ranges before any request", async () => {
    const s = new FetchStore(server.url);
    server.requests.length = 0;
    await expect(s.getRange("/blob", { offset: -1, length: 2 })).rejects.toThrow(/range/);
    await expect(s.getRange("/blob", { suffixLength: 1.5 })).rejects.toThrow(/suffixLength/);
    expect(server.requests).toEqual([]);
  });

  it("rejects keys that could escape or are malformed, naming the key, before any request", async () => {
    const s = new FetchStore(server.url);
    server.requests.length = 0;
    for (const bad of ["/a/../b", "/../x", "/./a", "/a//b", "/a\\b", "no-slash", "/a/"]) {
      await expect(s.get(bad as AbsolutePath), bad).rejects.toThrow(/invalid key/);
      await expect(s.getRange(bad as AbsolutePath, { suffixLength: 1 }), bad).rejects.toThrow(/invalid key/);
    }
    expect(server.requests).toEqual([]);
  });

  it("turns a server error into a StoreError naming the URL, the key and the status", async () => {
    const failing = await startStaticServer(dir, { fail: () => 500 });
    try {
      const s = new FetchStore(`${failing.url}/data.zarr`);
      const err = await s.get("/a/.zarray").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(isShardedStoreError(err, "StoreError")).toBe(true);
      const msg = (err as Error).message;
      expect(msg).toContain(`FetchStore(${failing.url}/data.zarr)`);
      expect(msg).toContain('"/a/.zarray"');
      expect(msg).toContain(`HTTP 500`);
      expect(msg).toContain(`${failing.url}/data.zarr/a/.zarray`);
      await expect(s.getRange("/a/0", { offset: 0, length: 4 })).rejects.toThrow(/HTTP 500.*a\/0/);
    } finally {
      await failing.close();
    }
  });

  it("treats 403 as an error by default, and as missing when missingStatuses says so", async () => {
    const s3like = await startStaticServer(dir, { missingStatus: 403 });
    try {
      await expect(new FetchStore(s3like.url).get("/nope")).rejects.toThrow(/HTTP 403/);
      const lenient = new FetchStore(s3like.url, { missingStatuses: [403, 404] });
      expect(await lenient.get("/nope")).toBeUndefined();
      expect(await lenient.getRange("/nope", { suffixLength: 3 })).toBeUndefined();
      expect(await lenient.get("/blob")).toEqual(blob);
    } finally {
      await s3like.close();
    }
  });

  it("wraps a connection failure in a StoreError naming the store", async () => {
    const gone = await startStaticServer(dir);
    await gone.close();
    const s = new FetchStore(gone.url);
    await expect(s.get("/blob")).rejects.toThrow(StoreError);
    await expect(s.get("/blob")).rejects.toThrow(`FetchStore(${gone.url}): get "/blob" failed`);
  });

  it("honours an aborted signal", async () => {
    const s = new FetchStore(server.url);
    const err = await s.get("/blob", { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(((err as Error).cause as Error).name).toBe("AbortError");
    const err2 = await s
      .getRange("/blob", { suffixLength: 1 }, { signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(((err2 as Error).cause as Error).name).toBe("AbortError");
  });

  it("sends its headers and overrides, and uses the fetch it is given", async () => {
    const urls: string[] = [];
    const s = new FetchStore(server.url, {
      headers: { "X-Token": "secret" },
      overrides: { headers: { "X-Client": "shardedstore" }, cache: "no-store" },
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(input, init);
      },
    });
    server.requests.length = 0;
    expect(await s.getRange("/blob", { offset: 1, length: 1 })).toEqual(new Uint8Array([1]));
    expect(urls).toEqual([`${server.url}/blob`]);
    const [req] = server.requests;
    expect(req?.headers["x-token"]).toBe("secret");
    expect(req?.headers["x-client"]).toBe("shardedstore");
    expect(req?.range).toBe("bytes=1-1");
  });

  it("normalises its URL, keeps a query string on every request and hides it in messages", async () => {
    const s = new FetchStore(new URL(`${server.url}/sub/?sig=abc#frag`));
    expect(s.url).toBe(`${server.url}/sub?sig=abc`);
    expect(String(s)).toBe(`FetchStore(${server.url}/sub?…)`);
    const plain = new FetchStore(`${server.url}///`);
    expect(plain.url).toBe(server.url);
    expect(String(plain)).toBe(`FetchStore(${server.url})`);
    server.requests.length = 0;
    const withQuery = new FetchStore(`${server.url}?sig=abc`);
    expect(await withQuery.get("/blob")).toEqual(blob);
    expect(server.requests.map((r) => r.path)).toEqual(["/blob"]);
  });

  it("is read-only by default: no set/delete, and ShardedStore refuses writes to it", async () => {
    const s = new FetchStore(server.url);
    expect(s.writable).toBe(false);
    expect("set" in s).toBe(false);
    expect("delete" in s).toBe(false);
    expect("list" in s).toBe(false);
    const sharded = new ShardedStore(s);
    await expect(sharded.set("/x", new Uint8Array(1))).rejects.toThrow(NotWritableError);
  });

  it("writes with PUT and deletes with DELETE when writable, against a real server", async () => {
    const wdir = await mkdtemp(path.join(tmpdir(), "ss-fetch-w-"));
    const w = await startStaticServer(wdir, { writable: true });
    try {
      const s = new FetchStore(`${w.url}/root.zarr`, { writable: true });
      const value = new Uint8Array(256).map((_, i) => i);
      await s.set?.("/a/b/c", value);
      expect(new Uint8Array(await readFile(path.join(wdir, "root.zarr", "a", "b", "c")))).toEqual(value);
      expect(await s.get("/a/b/c")).toEqual(value);
      await s.delete?.("/a/b/c");
      await expect(stat(path.join(wdir, "root.zarr", "a", "b", "c"))).rejects.toThrow(/ENOENT/);
      expect(await s.get("/a/b/c")).toBeUndefined();
      await expect(s.delete?.("/never/was")).resolves.toBeUndefined();
      expect(w.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
        "PUT /root.zarr/a/b/c",
        "GET /root.zarr/a/b/c",
        "DELETE /root.zarr/a/b/c",
        "GET /root.zarr/a/b/c",
        "DELETE /root.zarr/never/was",
      ]);
      await expect(s.set?.("/../x", value)).rejects.toThrow(/invalid key/);
    } finally {
      await w.close();
      await rm(wdir, { recursive: true, force: true });
    }
  });

  it("lets zarrita create and read an array on a writable HTTP store", async () => {
    const wdir = await mkdtemp(path.join(tmpdir(), "ss-fetch-z-"));
    const w = await startStaticServer(wdir, { writable: true });
    try {
      const s = new FetchStore(w.url, { writable: true });
      // `set` is optional on the class (present only when writable), so tell zarrita it is there.
      const arr = await zarr.create(zarr.root(s as zarr.AsyncMutable).resolve("x"), {
        shape: [4, 4],
        chunkShape: [2, 2],
        dtype: "int32",
      });
      const data = new Int32Array(16).map((_, i) => i * 3 - 7);
      await zarr.set(arr, null, { data, shape: [4, 4], stride: [4, 1] });
      const back = await zarr.get(
        await zarr.open(zarr.root(new FetchStore(w.url)).resolve("x"), { kind: "array" }),
      );
      expect(Array.from(back.data as Int32Array)).toEqual(Array.from(data));
    } finally {
      await w.close();
      await rm(wdir, { recursive: true, force: true });
    }
  });

  it("fails a PUT the server refuses with a StoreError naming the key", async () => {
    const s = new FetchStore(server.url, { writable: true });
    await expect(s.set?.("/x", new Uint8Array(1))).rejects.toThrow(/set "\/x" failed: HTTP 405/);
  });
});

describe("zarrita through FetchStore, on the Python original's fixture", () => {
  let fixture: StaticServer;
  beforeAll(async () => {
    fixture = await startStaticServer(SLASH);
  });
  afterAll(() => fixture.close());

  it("reads observations/stations/temperature (zlib, 2-D) equal to values.json, over HTTP", async () => {
    const store = new FetchStore(`${fixture.url}/single.zarr`);
    fixture.requests.length = 0;
    const got = await readArray(store, "observations/stations/temperature");
    const want = VALUES["observations/stations/temperature"];
    expect(got.shape).toEqual(want?.shape);
    expect(got.values).toEqual(want?.values);
    expect(fixture.requests.map((r) => r.path)).toContain(`/single.zarr${TEMPERATURE_CHUNK}`);
  });

  it("reads a chunk byte-identical to the file zarr-python wrote, whole and by range", async () => {
    const store = new FetchStore(`${fixture.url}/single.zarr`);
    const file = new Uint8Array(readFileSync(`${SINGLE}${TEMPERATURE_CHUNK}`));
    expect(await store.get(TEMPERATURE_CHUNK)).toEqual(file);
    expect(await store.getRange(TEMPERATURE_CHUNK, { offset: 2, length: 5 })).toEqual(file.slice(2, 7));
    expect(await store.getRange(TEMPERATURE_CHUNK, { suffixLength: 4 })).toEqual(file.slice(-4));
  });

  for (const [name, want] of Object.entries(VALUES)) {
    it(`reads single.zarr/${name} equal to values.json`, async () => {
      const got = await readArray(new FetchStore(`${fixture.url}/single.zarr`), name);
      expect(got.shape).toEqual(want.shape);
      expect(got.values).toEqual(want.values);
    });
  }

  it("serves as every shard of the sharded fixture: base, group shards and array shards", async () => {
    const at = (p: string) => new FetchStore(`${fixture.url}/${p}`);
    const store = new ShardedStore(at("base.zarr"), {
      shards: {
        people: at("people.zarr"),
        species: at("species.zarr"),
        observations: at("observations.zarr"),
      },
      arrayShards: {
        "simulation/coarse/foo": { dims: 1, factory: ([i]) => at(`array_shards/coarse_foo/${i}.zarr`) },
        "simulation/fine/foo": { dims: 2, factory: ([i, j]) => at(`array_shards/fine_foo/${i}/${j}.zarr`) },
      },
    });
    for (const name of [
      "people",
      "observations/stations/temperature",
      "simulation/coarse/foo",
      "simulation/fine/foo",
    ]) {
      const got = await readArray(store, name);
      expect(got.values, name).toEqual(VALUES[name]?.values);
    }
    const paths = fixture.requests.map((r) => r.path);
    expect(paths.some((p) => p.startsWith("/array_shards/fine_foo/"))).toBe(true);
    expect(paths.some((p) => p.startsWith("/observations.zarr/stations/temperature/"))).toBe(true);
  });
});
