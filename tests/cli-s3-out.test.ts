// convert, reshard, merge and finalize write to s3://bucket/prefix (s3rver on 127.0.0.1).
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openShardedStore, ZipStore } from "../src/node.js";
import { cli } from "./helpers/cli-in-process.js";
import { arrayPaths, readAll } from "./helpers/demo-folder.js";
import { type S3TestServer, startS3Server } from "./helpers/s3-server.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/python-seed", import.meta.url));
const BUCKET = "out-bucket";

let s3: S3TestServer;
let work: string;
let demo: string;
let source: string;
const saved: Record<string, string | undefined> = {};

/** One real `shardedstore` process (from the sources, through tsx), with `env` on top of ours. */
async function processCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ["--import", "tsx", path.join(ROOT, "src/cli/main.ts"), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

const endpoint = () => ["--s3-endpoint", s3.endpoint];

async function ok(args: string[]): Promise<string> {
  const r = await cli([...args, "--no-progress"]);
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The object keys below `prefix`. */
async function keysUnder(prefix: string): Promise<string[]> {
  const client = s3.client();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

async function getText(key: string): Promise<string> {
  const r = await s3.client().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return r.Body!.transformToString();
}

/** Every array of the demo read with zarrita from the composition at an s3:// config URL. */
async function arraysAt(url: string) {
  const store = await openShardedStore(url, { remote: { s3: s3.clientConfig } });
  try {
    return await readAll(store, await arrayPaths(path.join(demo, "single.zarr")));
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]) saved[k] = process.env[k];
  s3 = await startS3Server();
  await s3.createBucket(BUCKET);
  process.env.AWS_ACCESS_KEY_ID = s3.clientConfig.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.clientConfig.credentials.secretAccessKey;
  process.env.AWS_REGION = s3.clientConfig.region;
  work = await mkdtemp(path.join(tmpdir(), "ss-cli-s3-out-"));
  demo = path.join(work, "demo");
  await ok(["demo", "--out", demo]);
  source = path.join(demo, "sharded/composition.json");
}, 120_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await s3?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("convert --out s3://", () => {
  for (const to of ["zip", "dir"] as const) {
    it(`--to ${to}: every store in S3, a config with relative locations that opens from its URL`, async () => {
      const prefix = `convert-${to}`;
      const local = path.join(work, `convert-${to}`);
      await ok(["convert", source, "--to", to, "--out", local]);
      const report = JSON.parse(
        await ok([
          "convert",
          source,
          "--to",
          to,
          "--out",
          `s3://${BUCKET}/${prefix}`,
          ...endpoint(),
          "--json",
        ]),
      );
      expect(report).toMatchObject({ stores: 24, converted: 24, skipped: 0 });
      const text = await getText(`${prefix}/composition.json`);
      // The same config as the local output's: relative locations, no endpoint, no credentials.
      expect(JSON.parse(text)).toEqual(
        JSON.parse(await readFile(path.join(local, "composition.json"), "utf8")),
      );
      expect(text).not.toMatch(/127\.0\.0\.1|S3RVER|endpoint|Signature|X-Amz/i);
      const objects = await keysUnder(`${prefix}/data`);
      if (to === "zip") {
        expect(objects).toHaveLength(24);
        expect(objects.every((k) => k.endsWith(".zarr.zip"))).toBe(true);
      } else {
        expect(objects.some((k) => k.endsWith(".zarr.zip"))).toBe(false);
        expect(objects.length).toBeGreaterThan(24);
      }
      const url = `s3://${BUCKET}/${prefix}/composition.json`;
      const verify = await ok(["verify", url, source, "--arrays", ...endpoint()]);
      expect(verify).toContain("OK: identical");
      expect(await arraysAt(url)).toEqual(
        await readAll(await openShardedStore(source), await arrayPaths(path.join(demo, "single.zarr"))),
      );
      expect(await ok(["ls", url, ...endpoint()])).toBe(await ok(["ls", source]));
    }, 180_000);
  }

  it("--form expanded lists every index store in S3's config as in the local one; the source was compact", async () => {
    const kw = (text: string) => JSON.parse(text).config.kwargs;
    const before = kw(await readFile(source, "utf8"));
    expect(Object.values(before.array_shards).every((m) => Object.keys(m as object).length === 0)).toBe(true);
    const local = path.join(work, "convert-expanded");
    await ok(["convert", source, "--to", "zip", "--out", local, "--form", "expanded"]);
    await ok([
      "convert",
      source,
      "--to",
      "zip",
      "--out",
      `s3://${BUCKET}/expanded`,
      "--form",
      "expanded",
      ...endpoint(),
    ]);
    const text = await getText("expanded/composition.json");
    expect(JSON.parse(text)).toEqual(
      JSON.parse(await readFile(path.join(local, "composition.json"), "utf8")),
    );
    const after = kw(text);
    expect(after.array_shard_indices).toBeUndefined();
    expect(Object.keys(after.array_shards["simulation/fine/foo"]).sort()).toEqual([
      "0/0",
      "0/1",
      "0/2",
      "1/0",
      "1/1",
      "1/2",
      "2/0",
      "2/1",
      "2/2",
      "3/0",
      "3/1",
      "3/2",
      "4/0",
      "4/1",
      "4/2",
      "5/0",
      "5/1",
      "5/2",
    ]);
    expect(await ok(["ls", `s3://${BUCKET}/expanded/composition.json`, ...endpoint()])).toBe(
      await ok(["ls", source]),
    );
  }, 180_000);

  it("a rerun skips the complete stores and redoes exactly the ones lost or left partial", async () => {
    const prefix = "resume";
    const out = `s3://${BUCKET}/${prefix}`;
    await ok(["convert", source, "--to", "zip", "--out", out, ...endpoint()]);
    const again = JSON.parse(
      await ok(["convert", source, "--to", "zip", "--out", out, ...endpoint(), "--json"]),
    );
    expect(again).toMatchObject({ stores: 24, converted: 0, skipped: 24 });
    const client = s3.client();
    // One zip lost; one replaced by a truncated object (its size no longer the marker's); one zip
    // uploaded but its marker never written (the run died between the two).
    const zips = (await keysUnder(`${prefix}/data`)).filter((k) => k.endsWith(".zip"));
    const [lost, cut, unmarked] = [zips[0]!, zips[5]!, zips[10]!];
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: lost }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: cut, Body: new Uint8Array(10) }));
    const markers = await keysUnder(`${prefix}/.shardedstore-done/${unmarked.slice(prefix.length + 1)}.`);
    expect(markers).toHaveLength(1);
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: markers[0] }));
    const redo = JSON.parse(
      await ok(["convert", source, "--to", "zip", "--out", out, ...endpoint(), "--json"]),
    );
    expect(redo).toMatchObject({ stores: 24, converted: 3, skipped: 21 });
    expect(await ok(["verify", `${out}/composition.json`, source, "--arrays", ...endpoint()])).toContain(
      "OK: identical",
    );
  }, 180_000);

  it("--to dir: objects an interrupted copy left in a store's prefix are not kept", async () => {
    const prefix = "stale";
    const out = `s3://${BUCKET}/${prefix}`;
    // What a run that died mid-copy leaves: objects under a store's prefix, no marker.
    await s3
      .client()
      .send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/data/people.zarr/junk`, Body: "x" }));
    await ok(["convert", source, "--to", "dir", "--out", out, ...endpoint()]);
    expect(await keysUnder(`${prefix}/data/people.zarr/junk`)).toEqual([]);
    const v = await ok(["verify", `${out}/composition.json`, source, "--arrays", ...endpoint()]);
    expect(v).toContain("OK: identical");
  }, 180_000);
});

describe("--part K/N into S3 and finalize s3://", () => {
  it("convert in 3 processes, finalized, equals a single-process conversion; a missing part is reported", async () => {
    const single = `s3://${BUCKET}/p-single`;
    await ok(["convert", source, "--to", "zip", "--out", single, ...endpoint()]);
    const split = `s3://${BUCKET}/p-split`;
    const args = (k: number) => [
      "convert",
      source,
      "--to",
      "zip",
      "--out",
      split,
      "--part",
      `${k}/3`,
      "--json",
      ...endpoint(),
    ];
    const [p1, p2] = await Promise.all([processCli(args(1)), processCli(args(2))]);
    expect(p1!.code, p1!.stderr).toBe(0);
    expect(p2!.code, p2!.stderr).toBe(0);
    const early = await cli(["finalize", split, ...endpoint()]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/missing part 3\/3/);
    expect(await keysUnder("p-split/composition.json")).toEqual([]);
    const p3 = await processCli(args(3));
    expect(p3.code, p3.stderr).toBe(0);
    const counts = [p1!, p2!, p3].map((p) => JSON.parse(p.stdout).stores as number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(24);
    expect(counts.every((n) => n > 0)).toBe(true);
    const again = await processCli(args(2));
    expect(JSON.parse(again.stdout).alreadyComplete).toBe(true);
    const fin = JSON.parse(await ok(["finalize", split, ...endpoint(), "--json"]));
    expect(fin).toMatchObject({ parts: 3, stores: 24, command: "convert" });
    expect(JSON.parse(await getText("p-split/composition.json"))).toEqual(
      JSON.parse(await getText("p-single/composition.json")),
    );
    expect(
      await ok([
        "verify",
        `${split}/composition.json`,
        `${single}/composition.json`,
        "--arrays",
        ...endpoint(),
      ]),
    ).toContain("OK: identical");
    expect(await arraysAt(`${split}/composition.json`)).toEqual(await arraysAt(`${single}/composition.json`));
  }, 240_000);

  it("reshard in 2 processes, finalized, equals a single-process reshard into S3 and the source", async () => {
    const src = path.join(FIXTURES, "dot/single.zarr");
    const shape = ["--group", "people", "--array", "simulation/fine/foo:2", "--shard-type", "dir"];
    const single = `s3://${BUCKET}/r-single`;
    await ok(["reshard", src, "--out", single, ...shape, ...endpoint()]);
    const split = `s3://${BUCKET}/r-split`;
    const results = await Promise.all(
      [1, 2].map((k) =>
        processCli(["reshard", src, "--out", split, ...shape, "--part", `${k}/2`, "--json", ...endpoint()]),
      ),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    await ok(["finalize", split, ...endpoint()]);
    expect(JSON.parse(await getText("r-split/composition.json"))).toEqual(
      JSON.parse(await getText("r-single/composition.json")),
    );
    for (const url of [`${single}/composition.json`, `${split}/composition.json`]) {
      expect(await ok(["verify", url, src, "--arrays", ...endpoint()])).toContain("OK: identical");
    }
  }, 240_000);
});

describe("reshard and merge --out s3://", () => {
  it("reshard --shard-type zip into a new prefix; a prefix that holds objects is refused", async () => {
    const src = path.join(FIXTURES, "slash/single.zarr");
    const out = `s3://${BUCKET}/reshard-zip`;
    const shape = ["--group", "people", "--array", "simulation/coarse/foo:1", "--shard-type", "zip"];
    await ok(["reshard", src, "--out", out, ...shape, ...endpoint()]);
    const zips = await keysUnder("reshard-zip/data");
    expect(zips.length).toBeGreaterThan(2);
    expect(zips.every((k) => k.endsWith(".zarr.zip"))).toBe(true);
    expect(await ok(["verify", `${out}/composition.json`, src, "--arrays", ...endpoint()])).toContain(
      "OK: identical",
    );
    const twice = await cli(["reshard", src, "--out", out, ...shape, ...endpoint(), "--no-progress"]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/s3:\/\/out-bucket\/reshard-zip is not empty/);
  }, 180_000);

  it("merge into a prefix (a directory store) and into one zip object, each equal to the source", async () => {
    const dir = `s3://${BUCKET}/merged.zarr`;
    await ok(["merge", source, "--out", dir, ...endpoint()]);
    expect(await ok(["verify", dir, source, "--arrays", ...endpoint()])).toContain("OK: identical");
    const zipKey = "merged/all.zarr.zip";
    await ok(["merge", source, "--out", `s3://${BUCKET}/${zipKey}`, ...endpoint()]);
    expect(await keysUnder("merged/")).toEqual([zipKey]);
    const { S3Store } = await import("../src/node.js");
    const folder = new S3Store({ ...s3.clientConfig, bucket: BUCKET, prefix: "merged" });
    const zip = new ZipStore({ store: folder, key: "/all.zarr.zip" });
    try {
      expect(await readAll(zip, await arrayPaths(path.join(demo, "single.zarr")))).toEqual(
        await readAll(await openShardedStore(source), await arrayPaths(path.join(demo, "single.zarr"))),
      );
    } finally {
      await folder.close();
    }
    const again = await cli([
      "merge",
      source,
      "--out",
      `s3://${BUCKET}/${zipKey}`,
      ...endpoint(),
      "--no-progress",
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  }, 180_000);
});

describe("S3Store.upload (how zips reach S3)", () => {
  const bytes = Uint8Array.from({ length: 4500 }, (_, i) => (i * 7919) % 251);
  const read = async (start: number, end: number) => bytes.slice(start, end);

  it("uploads in parts above partSize and in one PutObject below; the object reads back whole", async () => {
    const { S3Store } = await import("../src/node.js");
    const store = new S3Store({ ...s3.clientConfig, bucket: BUCKET, prefix: "upload" });
    try {
      const reads: [number, number][] = [];
      const recorded = async (a: number, b: number) => {
        reads.push([a, b]);
        return read(a, b);
      };
      await store.upload("/multi.bin", bytes.length, recorded, { partSize: 1000 });
      expect(reads).toEqual([
        [0, 1000],
        [1000, 2000],
        [2000, 3000],
        [3000, 4000],
        [4000, 4500],
      ]);
      expect(await store.get("/multi.bin")).toEqual(bytes);
      await store.upload("/one.bin", bytes.length, read, { partSize: 1 << 20 });
      expect(await store.get("/one.bin")).toEqual(bytes);
    } finally {
      await store.close();
    }
  });

  it("a failure mid-upload leaves no object and names the key", async () => {
    const { S3Store } = await import("../src/node.js");
    const store = new S3Store({ ...s3.clientConfig, bucket: BUCKET, prefix: "upload" });
    try {
      const failing = async (a: number, b: number) => {
        if (a >= 2000) throw new Error("disk read failed");
        return read(a, b);
      };
      await expect(store.upload("/broken.bin", bytes.length, failing, { partSize: 1000 })).rejects.toThrow(
        /S3Store\(s3:\/\/out-bucket\/upload\): upload "\/broken\.bin" failed: disk read failed/,
      );
      expect(await store.get("/broken.bin")).toBeUndefined();
      expect(await keysUnder("upload/broken")).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
