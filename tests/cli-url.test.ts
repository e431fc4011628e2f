// The CLI's read commands take URLs: configs and stores over HTTP (a real local server) and S3 (s3rver).
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadDir, writeDemo } from "./helpers/demo-folder.js";
import { type StaticServer, startStaticServer } from "./helpers/http-server.js";
import { type S3TestServer, startS3Server } from "./helpers/s3-server.js";

const CLI = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let server: StaticServer;
let s3: S3TestServer;

function cli(args: string[]): Promise<Run> {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: s3.clientConfig.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.clientConfig.credentials.secretAccessKey,
    AWS_REGION: s3.clientConfig.region,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args, "--no-progress"], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-cli-url-"));
  await writeDemo(dir);
  server = await startStaticServer(dir);
  s3 = await startS3Server();
  await s3.createBucket("demo");
  for (const sub of ["sharded", "single.zarr"]) {
    await uploadDir(s3.client(), "demo", path.join(dir, sub), `comp/${sub}`);
  }
}, 180_000);

afterAll(async () => {
  await server?.close();
  await s3?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const s3Flags = () => ["--s3-endpoint", s3.endpoint];

describe("CLI read commands over HTTP", () => {
  it("ls, info and cat of zip/composition.json by URL match the same config read from disk", async () => {
    const url = `${server.url}/zip/composition.json`;
    const local = path.join(dir, "zip/composition.json");
    const keys = await ok(["ls", url]);
    expect(keys).toBe(await ok(["ls", local]));
    expect(keys.split("\n").length).toBeGreaterThan(20);
    const info = JSON.parse(await ok(["info", url, "--json"]));
    const infoLocal = JSON.parse(await ok(["info", local, "--json"]));
    expect(info.kind).toBe("config");
    expect(info.totals).toEqual(infoLocal.totals);
    expect(info.nodes).toEqual(infoLocal.nodes);
    expect(info.stores.every((s: { type: string }) => s.type === "ZipStore")).toBe(true);
  });

  it("verify --arrays compares a composition by URL with single.zarr on disk", async () => {
    const out = JSON.parse(
      await ok([
        "verify",
        `${server.url}/zip/composition.json`,
        path.join(dir, "single.zarr"),
        "--arrays",
        "--json",
      ]),
    );
    expect(out.identical).toBe(true);
  });

  it("cat of a key through a directory composition over HTTP gives the file's bytes", async () => {
    const r = await ok(["cat", `${server.url}/sharded/composition.json`, "zarr.json"]);
    expect(r).toBe(await readFile(path.join(dir, "sharded/data.zarr/zarr.json"), "utf8"));
  });

  it("listing directories over plain HTTP fails with a clear one-line reason", async () => {
    const r = await cli(["ls", `${server.url}/single.zarr`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error: cannot list the keys of http:\/\/127\.0\.0\.1:\d+\/single\.zarr: plain HTTP has no listing/,
    );
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("a plain store URL: a zip by range requests, a directory by FetchStore", async () => {
    const zipUrl = `${server.url}/zip/data.zarr.zip`;
    expect(await ok(["ls", zipUrl])).toBe(await ok(["ls", path.join(dir, "zip/data.zarr.zip")]));
    const meta = await ok(["cat", `${server.url}/single.zarr`, "zarr.json"]);
    expect(meta).toBe(await readFile(path.join(dir, "single.zarr/zarr.json"), "utf8"));
  });

  it("a URL that is not there is a one-line error naming it", async () => {
    const r = await cli(["info", `${server.url}/nope/composition.json`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nope\/composition\.json: not found/);
  });
});

describe("CLI read commands over S3", () => {
  it("info, ls and verify of s3://…/composition.json match the config on disk", async () => {
    const url = "s3://demo/comp/sharded/composition.json";
    const local = path.join(dir, "sharded/composition.json");
    expect(await ok(["ls", url, ...s3Flags()])).toBe(await ok(["ls", local]));
    const info = JSON.parse(await ok(["info", url, "--json", ...s3Flags()]));
    expect(info.totals).toEqual(JSON.parse(await ok(["info", local, "--json"])).totals);
    expect(info.stores.every((s: { type: string }) => s.type === "S3Store")).toBe(true);
    const v = JSON.parse(
      await ok(["verify", url, path.join(dir, "single.zarr"), "--arrays", "--json", ...s3Flags()]),
    );
    expect(v.identical).toBe(true);
  });

  it("a plain s3:// store URL lists like the directory it was uploaded from", async () => {
    expect(await ok(["ls", "s3://demo/comp/single.zarr", ...s3Flags()])).toBe(
      await ok(["ls", path.join(dir, "single.zarr")]),
    );
    const r = await ok(["cat", "s3://demo/comp/single.zarr", "zarr.json", ...s3Flags()]);
    expect(r).toBe(await readFile(path.join(dir, "single.zarr/zarr.json"), "utf8"));
  });
});
