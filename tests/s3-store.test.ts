import { readFileSync } from "node:fs";
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { copyStore } from "../src/copy-store.js";
import { DirectoryStore } from "../src/directory-store.js";
import { InvalidKeyError, isShardedStoreError, StoreError } from "../src/errors.js";
import { S3Store } from "../src/s3-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath } from "../src/types.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { storeConformance } from "./helpers/conformance.js";
import { type S3TestServer, startS3Server } from "./helpers/s3-server.js";

const SLASH = new URL("./fixtures/python-seed/slash/", import.meta.url).pathname;
const VALUES = JSON.parse(readFileSync(`${SLASH}values.json`, "utf8")) as Record<
  string,
  { shape: number[]; values: unknown }
>;
const SHARED_BUCKET = "shared-bucket";

let s3: S3TestServer;
let raw: S3Client;
let n = 0;

beforeAll(async () => {
  s3 = await startS3Server();
  raw = s3.client();
  await s3.createBucket(SHARED_BUCKET);
});
afterAll(() => s3.close());

async function objectKeys(bucket: string, Prefix?: string): Promise<string[]> {
  const out = await raw.send(new ListObjectsV2Command({ Bucket: bucket, ...(Prefix ? { Prefix } : {}) }));
  return (out.Contents ?? []).map((o) => o.Key ?? "").sort();
}

/** A client that records every request's method, path and Range header, and can shrink list pages. */
function recordingClient(maxKeys?: number) {
  const client = s3.client();
  const seen: { method: string; path: string; range: string | undefined; query: Record<string, unknown> }[] =
    [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { MaxKeys?: number; ContinuationToken?: string; Prefix?: string };
      if (maxKeys !== undefined && "Prefix" in input) input.MaxKeys = maxKeys;
      return next(args);
    },
    { step: "initialize" },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as {
        method: string;
        path: string;
        headers: Record<string, string>;
        query?: Record<string, unknown>;
      };
      seen.push({ method: req.method, path: req.path, range: req.headers.range, query: { ...req.query } });
      return next(args);
    },
    { step: "finalizeRequest" },
  );
  return { client, seen };
}

// Without a prefix: every store gets its own fresh bucket and its own client (closed by the store).
storeConformance("S3Store (whole bucket, s3rver)", {
  make: async () => {
    const bucket = `conformance-${++n}`;
    await s3.createBucket(bucket);
    return new S3Store({ bucket, ...s3.clientConfig });
  },
});

// With a prefix: all stores share one bucket (and a client the store must not destroy), next to
// neighbours whose names start with the same letters, which must never show up.
storeConformance("S3Store (prefix in a shared bucket, s3rver)", {
  make: async () => {
    const prefix = `runs/p${++n}`;
    for (const k of [`${prefix}x/leak`, `${prefix}-sibling/.zgroup`, "runs/top"]) {
      await raw.send(new PutObjectCommand({ Bucket: SHARED_BUCKET, Key: k, Body: new Uint8Array([7]) }));
    }
    return new S3Store({ bucket: SHARED_BUCKET, prefix: `/${prefix}/`, client: raw });
  },
});

storeConformance("ShardedStore over S3Stores (s3rver)", {
  make: async () => {
    const prefix = `sharded/p${++n}`;
    const at = (p: string) => new S3Store({ bucket: SHARED_BUCKET, prefix: `${prefix}/${p}`, client: raw });
    return new ShardedStore(at("base.zarr"), { shards: { a: at("a.zarr"), "b/c": at("bc.zarr") } });
  },
});

describe("S3Store", () => {
  it("maps keys under its prefix, and lists them back relative to it", async () => {
    const store = new S3Store({ bucket: SHARED_BUCKET, prefix: "maps/a.zarr", client: raw });
    await store.set("/.zgroup", new TextEncoder().encode("{}"));
    await store.set("/x/0.0", new Uint8Array([1, 2]));
    expect(await objectKeys(SHARED_BUCKET, "maps/")).toEqual(["maps/a.zarr/.zgroup", "maps/a.zarr/x/0.0"]);
    expect(await listAll(store)).toEqual(["/.zgroup", "/x/0.0"]);
    expect(await listAll(store, "/x")).toEqual(["/x/0.0"]);
  });

  it("pages through ListObjectsV2 until the listing is complete", async () => {
    const { client, seen } = recordingClient(3);
    const store = new S3Store({ bucket: SHARED_BUCKET, prefix: "paged", client });
    const keys = Array.from({ length: 10 }, (_, i) => `/k/${String(i).padStart(2, "0")}` as AbsolutePath);
    await Promise.all(keys.map((k) => store.set(k, new Uint8Array([1]))));
    seen.length = 0;
    expect(await listAll(store)).toEqual(keys);
    const lists = seen.filter((r) => r.query["list-type"] === "2");
    expect(lists.length).toBe(4);
    expect(lists.filter((r) => r.query["continuation-token"] !== undefined).length).toBe(3);
    expect(lists.every((r) => r.query.prefix === "paged/")).toBe(true);
  });

  it("sends a Range header: bytes=a-b for offset/length and bytes=-n for a suffix", async () => {
    const { client, seen } = recordingClient();
    const store = new S3Store({ bucket: SHARED_BUCKET, prefix: "ranges", client });
    const v = new Uint8Array(50).map((_, i) => 200 - i);
    await store.set("/v", v);
    seen.length = 0;
    expect(await store.getRange("/v", { offset: 3, length: 4 })).toEqual(v.slice(3, 7));
    expect(await store.getRange("/v", { suffixLength: 6 })).toEqual(v.slice(44));
    expect(await store.getRange("/v", { offset: 60, length: 6 })).toEqual(new Uint8Array(0));
    expect(seen.map((r) => r.range)).toEqual(["bytes=3-6", "bytes=-6", "bytes=60-65"]);
    expect(seen.map((r) => r.path)).toEqual([
      "/shared-bucket/ranges/v",
      "/shared-bucket/ranges/v",
      "/shared-bucket/ranges/v",
    ]);
  });

  it("reads the Python original's v2 arrays with zarrita after copying them into a bucket", async () => {
    const store = new S3Store({ bucket: SHARED_BUCKET, prefix: "fixtures/single.zarr", client: raw });
    const { keys } = await copyStore(new DirectoryStore(`${SLASH}single.zarr`), store);
    expect(keys).toBeGreaterThan(20);
    for (const name of ["observations/stations/temperature", "people", "simulation/fine/foo"]) {
      const got = await readArray(store, name);
      expect(got.shape, name).toEqual(VALUES[name]?.shape);
      expect(got.values, name).toEqual(VALUES[name]?.values);
    }
  });

  it("round-trips a zarrita v3 array, and a second store over the same bucket reads it", async () => {
    await s3.createBucket("zarrita-round-trip");
    const writer = new S3Store({ bucket: "zarrita-round-trip", prefix: "data/t.zarr", ...s3.clientConfig });
    const root = zarr.root(writer);
    await zarr.create(root);
    const arr = await zarr.create(root.resolve("temperature"), {
      shape: [6, 4],
      chunkShape: [2, 3],
      dtype: "float32",
    });
    const data = new Float32Array(24).map((_, i) => i / 4 - 2);
    await zarr.set(arr, null, { data, shape: [6, 4], stride: [4, 1] });
    await writer.close();

    const reader = new S3Store({ bucket: "zarrita-round-trip", prefix: "data/t.zarr", ...s3.clientConfig });
    const opened = await zarr.open(zarr.root(reader).resolve("temperature"), { kind: "array" });
    const got = await zarr.get(opened);
    expect(Array.from(got.data as Float32Array)).toEqual(Array.from(data));
    expect(await listAll(reader, "/temperature")).toEqual([
      "/temperature/c/0/0",
      "/temperature/c/0/1",
      "/temperature/c/1/0",
      "/temperature/c/1/1",
      "/temperature/c/2/0",
      "/temperature/c/2/1",
      "/temperature/zarr.json",
    ]);
    expect(await objectKeys("zarrita-round-trip", "data/t.zarr/temperature/zarr")).toEqual([
      "data/t.zarr/temperature/zarr.json",
    ]);
    await reader.close();
  });

  it("fails every operation on a missing bucket with a StoreError naming the bucket, prefix and key", async () => {
    const store = new S3Store({ bucket: "no-such-bucket", prefix: "pre/fix", client: raw });
    const err = await store.get("/a/.zarray").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(isShardedStoreError(err, "StoreError")).toBe(true);
    expect((err as Error).message).toContain("S3Store(s3://no-such-bucket/pre/fix)");
    expect((err as Error).message).toContain('get "/a/.zarray" failed');
    expect(((err as Error).cause as { name: string }).name).toBe("NoSuchBucket");
    await expect(store.getRange("/a/0", { suffixLength: 2 })).rejects.toThrow(
      /s3:\/\/no-such-bucket\/pre\/fix\): getRange "\/a\/0" failed/,
    );
    await expect(store.set("/a/0", new Uint8Array(1))).rejects.toThrow(
      /s3:\/\/no-such-bucket\/pre\/fix\): set "\/a\/0" failed/,
    );
    await expect(store.delete("/a/0")).rejects.toThrow(/s3:\/\/no-such-bucket.*delete "\/a\/0" failed/);
    await expect(listAll(store, "/a")).rejects.toThrow(
      /s3:\/\/no-such-bucket\/pre\/fix\): list "\/a\/" failed/,
    );
  });

  it("wraps an unreachable endpoint in a StoreError naming the store", async () => {
    const client = new S3Client({ ...s3.clientConfig, endpoint: "http://127.0.0.1:1", maxAttempts: 1 });
    const store = new S3Store({ bucket: "b-unreachable", client });
    try {
      const err = await store.get("/x").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/^S3Store\(s3:\/\/b-unreachable\): get "\/x" failed: /);
    } finally {
      client.destroy();
    }
  });

  it("makes its own client, with the first request, from the options as they were at construction", async () => {
    await s3.createBucket("b-own-client");
    const options = { ...s3.clientConfig, bucket: "b-own-client" };
    const store = new S3Store(options);
    // The client is made later: replacing members of the caller's object now must not reach it.
    const nobody = { accessKeyId: "NOBODY", secretAccessKey: "x" };
    options.endpoint = "http://127.0.0.1:1";
    options.credentials = nobody;
    try {
      await store.set("/k" as AbsolutePath, new Uint8Array([4, 2]));
      expect(await store.get("/k" as AbsolutePath)).toEqual(new Uint8Array([4, 2]));
      // …while credentials given at construction do reach the client it makes.
      const wrong = new S3Store({ ...s3.clientConfig, credentials: nobody, bucket: "b-own-client" });
      const err = await wrong.get("/k" as AbsolutePath).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/InvalidAccessKeyId|Access Key/i);
      await wrong.close();
    } finally {
      await store.close();
    }
  });

  it("honours an aborted signal", async () => {
    const store = new S3Store({ bucket: SHARED_BUCKET, client: raw });
    const err = await store.get("/x", { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(((err as Error).cause as Error).name).toBe("AbortError");
  });

  it("skips objects whose names are not valid keys when listing", async () => {
    // (s3rver cannot store names with "//" or a trailing "/"; a backslash is as invalid for us.)
    for (const k of ["odd/ok", "odd/a\\b"]) {
      await raw.send(new PutObjectCommand({ Bucket: SHARED_BUCKET, Key: k, Body: new Uint8Array(0) }));
    }
    expect(await objectKeys(SHARED_BUCKET, "odd/")).toEqual(["odd/a\\b", "odd/ok"]);
    expect(await listAll(new S3Store({ bucket: SHARED_BUCKET, prefix: "odd", client: raw }))).toEqual([
      "/ok",
    ]);
  });

  it("exposes what the config codec needs, and normalises the prefix", () => {
    const store = new S3Store({ bucket: "b", prefix: "//a/b.zarr/", ...s3.clientConfig });
    expect(store.bucket).toBe("b");
    expect(store.prefix).toBe("a/b.zarr");
    expect(store.endpoint).toBe(s3.endpoint);
    expect(store.region).toBe("us-east-1");
    expect(store.forcePathStyle).toBe(true);
    expect(String(store)).toBe("S3Store(s3://b/a/b.zarr)");
    expect(String(new S3Store({ bucket: "b" }))).toBe("S3Store(s3://b)");
    expect(new S3Store({ bucket: "b", prefix: "/" }).prefix).toBe("");
  });

  it("rejects a bad bucket or prefix at construction", () => {
    expect(() => new S3Store({ bucket: "" })).toThrow(/bucket must be a non-empty string/);
    expect(() => new S3Store({ bucket: "b", prefix: "a/../b" })).toThrow(InvalidKeyError);
    expect(() => new S3Store({ bucket: "b", prefix: "a/../b" })).toThrow(/invalid prefix segment "\.\."/);
  });

  it("leaves a client it was given usable after close", async () => {
    const client = s3.client();
    const store = new S3Store({ bucket: SHARED_BUCKET, prefix: "owned", client });
    await store.set("/k", new Uint8Array([5]));
    await store.close();
    const again = new S3Store({ bucket: SHARED_BUCKET, prefix: "owned", client });
    expect(await again.get("/k")).toEqual(new Uint8Array([5]));
  });
});
