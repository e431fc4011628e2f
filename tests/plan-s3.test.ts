// `shardedstore plan --target s3 --out s3://bucket/prefix --apply` against a local S3 server
// (s3rver): what each planned command does with an S3 output. reshard (zip shards) and merge (one
// zip) write into the bucket; pack does not write S3 and says so before writing anything.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryStore, S3Store, ZipStore } from "../src/node.js";
import type { AbsolutePath } from "../src/types.js";
import { cli } from "./helpers/cli-in-process.js";
import { type S3TestServer, startS3Server } from "./helpers/s3-server.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/python-seed/dot/single.zarr", import.meta.url));
const BUCKET = "plan-out";
const saved: Record<string, string | undefined> = {};
let s3: S3TestServer;
let raw: S3Client;
let work: string;
let q: string;

beforeAll(async () => {
  for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]) saved[k] = process.env[k];
  s3 = await startS3Server();
  raw = s3.client();
  await s3.createBucket(BUCKET);
  process.env.AWS_ACCESS_KEY_ID = s3.clientConfig.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.clientConfig.credentials.secretAccessKey;
  process.env.AWS_REGION = s3.clientConfig.region;
  q = `?endpoint=${encodeURIComponent(s3.endpoint)}`;
  work = await mkdtemp(path.join(tmpdir(), "ss-plan-s3-"));
  expect((await cli(["demo", "--out", path.join(work, "demo"), "--no-progress"])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await s3?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every object under `prefix` in the bucket, with its size. */
async function objectsUnder(prefix: string): Promise<{ key: string; size: number }[]> {
  const out = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => ({ key: o.Key ?? "", size: o.Size ?? 0 }));
}

async function plan(source: string, out: string, limits: string[]) {
  return cli(["plan", source, "--out", out, "--target", "s3", ...limits, "--apply", "--no-progress"]);
}

describe("plan --target s3 --apply into s3://bucket/prefix", () => {
  it("zip shards (reshard): the objects meet the limits and the composition reads as the source", async () => {
    const r = await plan(FIXTURE, `s3://${BUCKET}/split${q}`, [
      "--max-objects",
      "40",
      "--max-object-bytes",
      "20K",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shardedstore reshard .* --shard-type zip/);
    const stores = (await objectsUnder("split/")).filter((o) => o.key !== "split/composition.json");
    expect(stores.length).toBeGreaterThan(1);
    expect(stores.length).toBeLessThanOrEqual(40);
    for (const o of stores) expect(o.size).toBeLessThanOrEqual(20 * 1024);
    const v = await cli([
      "verify",
      `s3://${BUCKET}/split/composition.json${q}`,
      FIXTURE,
      "--allow-urls",
      "--s3-endpoint",
      s3.endpoint,
    ]);
    expect(v.stderr).toBe("");
    expect(v.stdout).toContain("OK: identical");
    expect(v.code).toBe(0);
  });

  it("one zip (merge): one object named prefix.zarr.zip (before the URL's query), holding every key", async () => {
    const r = await plan(FIXTURE, `s3://${BUCKET}/one${q}`, ["--max-objects", "5"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shardedstore merge .*'s3:\/\/plan-out\/one\.zarr\.zip\?endpoint=/);
    expect((await objectsUnder("one")).map((o) => o.key)).toEqual(["one.zarr.zip"]);
    const bucket = new S3Store({ ...s3.clientConfig, bucket: BUCKET });
    const zip = new ZipStore({ store: bucket, key: "/one.zarr.zip" as AbsolutePath });
    const dir = new DirectoryStore(FIXTURE);
    try {
      const keys: string[] = [];
      for await (const k of dir.list()) keys.push(k);
      const zipped: string[] = [];
      for await (const k of zip.list()) zipped.push(k);
      expect(zipped.sort()).toEqual(keys.sort());
      for (const k of keys)
        expect(await zip.get(k as AbsolutePath), k).toEqual(await dir.get(k as AbsolutePath));
    } finally {
      await zip.close();
      await bucket.close();
      await dir.close();
    }
  });

  it("packing (pack) is refused before anything is written: pack writes local folders and zips only", async () => {
    const source = path.join(work, "demo/sharded/composition.json");
    const r = await plan(source, `s3://${BUCKET}/packed${q}`, [
      "--max-objects",
      "80",
      "--max-object-bytes",
      "2K",
    ]);
    expect(r.stdout).toMatch(/shardedstore pack /);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /pack writes a local folder or zip; write it locally, then `shardedstore convert`/,
    );
    expect(await objectsUnder("packed")).toEqual([]);
  });
});
