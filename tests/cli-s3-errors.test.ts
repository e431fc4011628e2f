// Writing to s3:// fails clearly, before writing anything, naming the bucket and what to do.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./helpers/cli-in-process.js";
import { type S3TestServer, startS3Server } from "./helpers/s3-server.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
// tsx by URL: the processes run in an empty folder, where the name "tsx" would not resolve.
const TSX = new URL("../node_modules/tsx/dist/loader.mjs", import.meta.url).href;

let s3: S3TestServer;
let work: string;
let source: string;
let stalled: Server;
const sockets = new Set<Socket>();
const saved: Record<string, string | undefined> = {};

/** A real CLI process in `cwd`, with exactly the AWS settings given (none from this machine). */
async function processCli(
  args: string[],
  aws: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^AWS_/.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: cwd,
    AWS_CONFIG_FILE: path.join(cwd, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(cwd, "no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    ...aws,
  });
  try {
    const r = await run(
      process.execPath,
      ["--import", TSX, path.join(ROOT, "src/cli/main.ts"), ...args, "--no-progress"],
      { cwd, env },
    );
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

/** The last line of stderr (the SDK may warn above it). */
const lastLine = (s: string) => s.trim().split("\n").at(-1) ?? "";

beforeAll(async () => {
  for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"]) saved[k] = process.env[k];
  s3 = await startS3Server();
  await s3.createBucket("real-bucket");
  process.env.AWS_ACCESS_KEY_ID = s3.clientConfig.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.clientConfig.credentials.secretAccessKey;
  process.env.AWS_REGION = s3.clientConfig.region;
  work = await mkdtemp(path.join(tmpdir(), "ss-cli-s3-errors-"));
  expect((await cli(["demo", "--out", path.join(work, "demo"), "--no-progress"])).code).toBe(0);
  source = path.join(work, "demo/sharded/composition.json");
  // An endpoint that accepts connections and never answers.
  stalled = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => stalled.listen(0, "127.0.0.1", r));
  stalled.unref();
}, 120_000);

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  for (const s of sockets) s.destroy();
  await new Promise((r) => stalled?.close(r));
  await s3?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("--out s3:// errors", () => {
  it("a bucket that does not exist: every writing command says so, exit 2, nothing written", async () => {
    const out = "s3://no-such-bucket/x";
    const flags = ["--s3-endpoint", s3.endpoint];
    const runs = [
      ["convert", source, "--to", "zip", "--out", out, ...flags],
      ["convert", source, "--to", "dir", "--out", out, "--part", "1/2", ...flags],
      ["reshard", path.join(work, "demo/single.zarr"), "--out", out, ...flags],
      ["merge", source, "--out", `${out}/m.zarr.zip`, ...flags],
      ["finalize", out, ...flags],
    ];
    for (const args of runs) {
      const r = await cli([...args, "--no-progress"]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(
        /^error: cannot write to s3:\/\/no-such-bucket\/x.*: there is no bucket "no-such-bucket" at http:\/\/127\.0\.0\.1:\d+; create it first\n$/,
      );
    }
    // No fallback to a local folder named like the URL.
    expect((await readdir(ROOT)).filter((n) => /^s3:?$/.test(n))).toEqual([]);
  }, 120_000);

  it("a closed endpoint and a stalled one: a clear error within the timeout the URL gives", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const refused = await cli([
      "convert",
      source,
      "--to",
      "zip",
      "--out",
      "s3://real-bucket/x?retries=0",
      "--s3-endpoint",
      `http://127.0.0.1:${port}`,
      "--no-progress",
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `cannot write to s3://real-bucket/x: cannot reach http://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED`,
      ),
    );
    const { port: stalledPort } = stalled.address() as { port: number };
    const hung = await cli([
      "merge",
      source,
      "--out",
      "s3://real-bucket/y?timeout=300&retries=0",
      "--s3-endpoint",
      `http://127.0.0.1:${stalledPort}`,
      "--no-progress",
    ]);
    expect(hung.code).toBe(2);
    expect(hung.stderr).toMatch(
      /cannot write to s3:\/\/real-bucket\/y: cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*timeout/,
    );
  }, 60_000);

  it("credentials: none found, or refused by the server; a region is needed without an endpoint", async () => {
    const cwd = await mkdtemp(path.join(work, "cwd-"));
    const args = [
      "convert",
      source,
      "--to",
      "zip",
      "--out",
      "s3://real-bucket/x",
      "--s3-endpoint",
      s3.endpoint,
    ];
    const none = await processCli(args, {}, cwd);
    expect(none.code).toBe(2);
    expect(lastLine(none.stderr)).toMatch(
      /^error: cannot write to s3:\/\/real-bucket\/x: no AWS credentials found \(set AWS_ACCESS_KEY_ID/,
    );
    const wrong = await processCli(args, { AWS_ACCESS_KEY_ID: "WRONG", AWS_SECRET_ACCESS_KEY: "WRONG" }, cwd);
    expect(wrong.code).toBe(2);
    expect(lastLine(wrong.stderr)).toMatch(
      /cannot write to s3:\/\/real-bucket\/x: http:\/\/127\.0\.0\.1:\d+ refused the credentials/,
    );
    const noRegion = await processCli(
      ["reshard", path.join(work, "demo/single.zarr"), "--out", "s3://real-bucket/x"],
      { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" },
      cwd,
    );
    expect(noRegion.code).toBe(2);
    expect(lastLine(noRegion.stderr)).toMatch(
      /cannot write to s3:\/\/real-bucket\/x: no region \(set AWS_REGION/,
    );
    // No silent fallback: nothing was written to a local folder named after the URL.
    expect((await readdir(cwd)).filter((n) => !n.startsWith("."))).toEqual([]);
  }, 120_000);

  it("converting a composition in S3 onto its own prefix is refused", async () => {
    const flags = ["--s3-endpoint", s3.endpoint, "--no-progress"];
    expect(
      (await cli(["convert", source, "--to", "dir", "--out", "s3://real-bucket/self", ...flags])).code,
    ).toBe(0);
    const r = await cli([
      "convert",
      "s3://real-bucket/self/composition.json",
      "--to",
      "dir",
      "--out",
      "s3://real-bucket/self",
      ...flags,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--out s3:\/\/real-bucket\/self would overwrite s3:\/\/real-bucket\/self\/composition\.json/,
    );
    const still = await cli([
      "verify",
      "s3://real-bucket/self/composition.json",
      source,
      "--arrays",
      ...flags,
    ]);
    expect(still.stdout).toContain("OK: identical");
  }, 120_000);

  it("an s3:// URL without a bucket or with an unknown query member is a usage error", async () => {
    for (const [out, message] of [
      ["s3://", /--out s3:\/\/: not an s3:\/\/ URL/],
      ["s3://real-bucket/x?secret=1", /unknown query member "secret"/],
    ] as const) {
      const r = await cli(["convert", source, "--to", "zip", "--out", out, "--no-progress"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
