import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import "../src/config/store-types.js";
import { ShardedStore } from "../src/index.js";
import type { ShardProgress } from "../src/map-shards.js";
import { MemoryStore } from "../src/memory-store.js";
import { arrayShardS3Store, parseS3Url, s3Url, toS3StoreWithPrefix } from "../src/s3-shards.js";
import { S3Store } from "../src/s3-store.js";
import type { Store } from "../src/types.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { ZipStore } from "../src/zip-store-node.js";
import { ramp, readArray } from "./helpers/arrays.js";
import { type S3TestServer, startS3Server } from "./helpers/s3-server.js";

const BUCKET = "shards-bucket";
let s3: S3TestServer;
let dir: string;
let where: string; // endpoint, region and path style of s3rver as an s3:// query

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket(BUCKET);
  dir = await mkdtemp(path.join(tmpdir(), "ss-s3shards-"));
  const { endpoint, region } = s3.clientConfig;
  where = new URLSearchParams({ endpoint, region, forcePathStyle: "true" }).toString();
  // A config never holds credentials: a reader gets them from the environment, as the SDK does.
  process.env.AWS_ACCESS_KEY_ID = s3.clientConfig.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.clientConfig.credentials.secretAccessKey;
});
afterAll(async () => {
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

const creds = () => s3.clientConfig.credentials;
const store = (prefix: string) => new S3Store({ bucket: BUCKET, prefix, ...s3.clientConfig });

async function objectKeys(Prefix: string): Promise<string[]> {
  const out = await s3.client().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? "").sort();
}

async function writeArray(s: Store, p: string, shape: number[], chunkShape: number[], seed: number) {
  const a = await zarr.create(zarr.root(s as zarr.Mutable).resolve(p), {
    shape,
    chunkShape,
    dtype: "float64",
  });
  const n = shape.reduce((x, y) => x * y, 1);
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1));
  await zarr.set(a, null, { data: new Float64Array(ramp(n, seed)), shape, stride } as never);
}

describe("s3:// locations", () => {
  it("round-trip bucket, prefix and the connection options that are not secrets", () => {
    const url = s3Url("b", "/a/b/", { region: "eu-west-1", forcePathStyle: true, timeout: 5000 });
    expect(url).toBe("s3://b/a/b?region=eu-west-1&forcePathStyle=true&timeout=5000");
    expect(parseS3Url(url)).toEqual({
      bucket: "b",
      prefix: "a/b",
      options: { region: "eu-west-1", forcePathStyle: true, timeout: 5000 },
    });
    expect(() => parseS3Url("https://x/y")).toThrow(/not an s3:\/\/ URL/);
    expect(() => parseS3Url("s3://b/p?secretAccessKey=x")).toThrow(/unknown query member "secretAccessKey"/);
  });
});

describe("ZipStore reads a zip in a bucket through an S3Store", () => {
  it("by signed range requests only, with zarrita, and its config holds no secret", async () => {
    const file = `${dir}/a.zarr.zip`;
    const zw = new ZipStore(file, { mode: "w" });
    await writeArray(zw, "t", [6, 4], [2, 2], 3);
    await zw.close();
    const bytes = new Uint8Array(await readFile(file));
    await s3.client().send(new PutObjectCommand({ Bucket: BUCKET, Key: "zips/a.zarr.zip", Body: bytes }));

    const client = s3.client();
    const seen: { range: string | undefined; signed: boolean }[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { headers: Record<string, string> };
        const r = await next(args);
        seen.push({
          range: req.headers.range,
          signed: /^AWS4-HMAC-SHA256 /.test(req.headers.authorization ?? ""),
        });
        return r;
      },
      { step: "finalizeRequest", priority: "low" },
    );
    const { endpoint, region, forcePathStyle } = s3.clientConfig;
    const s3store = new S3Store({ bucket: BUCKET, prefix: "zips", client, endpoint, region, forcePathStyle });
    const z = new BrowserZipStore({ store: s3store, key: "/a.zarr.zip" });
    const expected = await readArray(new ZipStore(file), "t");
    expect(await readArray(z, "t")).toEqual(expected);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.every((r) => r.signed && /^bytes=\d*-\d+$/.test(r.range ?? ""))).toBe(true);
    expect(seen[0]?.range).toMatch(/^bytes=-\d+$/); // one suffix request: the directory and the size

    const config = new ShardedStore(new MemoryStore(), { shards: { zipped: z } }).toConfig();
    const text = JSON.stringify(config);
    expect(text).toContain(`"s3://${BUCKET}/zips/a.zarr.zip?`);
    expect(text).not.toMatch(/S3RVER|Signature|Credential/);
    const back = ShardedStore.fromConfig(config);
    expect(await readArray(back, "zipped/t")).toEqual(expected);
  });

  it("names the bucket and key when the archive is missing", async () => {
    const z = new BrowserZipStore({ store: store("zips"), key: "/nope.zip" });
    await expect(z.get("/t/zarr.json")).rejects.toThrow(
      /ZipStore\(S3Store\(s3:\/\/shards-bucket\/zips\)\/nope\.zip\): get "\/t\/zarr\.json" failed: .*nope\.zip does not exist/,
    );
  });
});

describe("arrayShardS3Store", () => {
  it("puts index [i] under prefix/i.zarr, survives a config round trip, and the array can grow", async () => {
    const loc = `s3://${BUCKET}/grow/foo?${where}`;
    const sharded = new ShardedStore(store("grow/base.zarr"), {
      arrayShards: { foo: { dims: 1, factory: arrayShardS3Store(loc, { credentials: creds() }) } },
    });
    await zarr.create(zarr.root(sharded));
    await writeArray(sharded, "foo", [3, 4], [1, 2], 5);
    const keys = await objectKeys("grow/foo/");
    expect(keys).toContain("grow/foo/0.zarr/zarr.json");
    expect(keys).toContain("grow/foo/2.zarr/c/1");
    const config = sharded.toConfig();
    const text = JSON.stringify(config);
    expect(text).toContain(`"kind":"s3"`);
    expect(text).toContain(JSON.stringify(`s3://${BUCKET}/grow/foo?${where}`));
    expect(text).not.toMatch(/S3RVER/);

    const back = ShardedStore.fromConfig(JSON.parse(text));
    const before = await readArray(sharded, "foo");
    expect(await readArray(back, "foo")).toEqual(before);
    // Grow along the sharded dimension: index store 3 is made by the rebuilt factory.
    const meta = JSON.parse(new TextDecoder().decode(await back.get("/foo/zarr.json")));
    meta.shape = [4, 4];
    await back.set("/foo/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
    const grown = await zarr.open.v3(zarr.root(back).resolve("foo"), { kind: "array" });
    await zarr.set(grown, [3, null], 7);
    expect(await objectKeys("grow/foo/3.zarr/")).toContain("grow/foo/3.zarr/c/0");
    expect((await readArray(back, "foo")).shape).toEqual([4, 4]);
  });
});

describe("toS3StoreWithPrefix", () => {
  it("copies every shard under the prefix, reads equal, and a rerun skips them all", async () => {
    const src = new ShardedStore(new MemoryStore(), {
      shards: { people: new MemoryStore() },
      arrayShards: { sim: { dims: 1, factory: () => new MemoryStore() } },
    });
    await zarr.create(zarr.root(src));
    await zarr.create(zarr.root(src).resolve("people"));
    await writeArray(src, "people/h", [5], [2], 1);
    await writeArray(src, "sim", [2, 3], [1, 3], 2);
    const fn = toS3StoreWithPrefix(`s3://${BUCKET}/conv/out?${where}`, { credentials: creds() });
    const out = await src.mapShards(fn);
    for (const p of ["people/h", "sim"]) expect(await readArray(out, p)).toEqual(await readArray(src, p));
    const keys = await objectKeys("conv/");
    expect(keys).toContain("conv/out.zarr/zarr.json");
    expect(keys).toContain("conv/out/people.zarr/h/zarr.json");
    expect(keys).toContain("conv/out/sim/1.zarr/c/0");
    const events: ShardProgress[] = [];
    await src.mapShards(fn, { onProgress: (e) => events.push(e) });
    expect(events.filter((e) => e.type === "shard-skipped").length).toBe(4); // base, people, sim/0, sim/1
    expect(JSON.stringify(out.toConfig())).toContain(`s3://${BUCKET}/conv/out/sim?`);
  });
});
