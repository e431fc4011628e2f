// A downloaded config is untrusted: the CLI confines it to its folder unless told otherwise.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StaticServer, startStaticServer } from "../helpers/http-server.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args, "--no-progress"], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const store = (name: string, p: string) => ({
  name,
  module: "zarr.storage",
  config: { args: [p], kwargs: {} },
});
const composition = (base: object) => ({
  name: "ShardedStore",
  module: "shardedstore",
  config: { args: [base], kwargs: {} },
});

let dir: string;
let dl: string;
let outside: string;
let server: StaticServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-confine-cli-"));
  outside = path.join(dir, "outside");
  await mkdir(path.join(outside, "secret.zarr"), { recursive: true });
  await writeFile(path.join(outside, "secret.zarr", "zarr.json"), '{"zarr_format":3,"node_type":"group"}');
  await writeFile(path.join(outside, "secret.zarr", "token"), "s3cr3t");
  server = await startStaticServer(outside);
  dl = path.join(dir, "downloaded");
  await mkdir(path.join(dl, "inside.zarr"), { recursive: true });
  await writeFile(path.join(dl, "inside.zarr", "zarr.json"), '{"zarr_format":3,"node_type":"group"}');
  await symlink(outside, path.join(dl, "link"));
  const configs: Record<string, object> = {
    "etc.json": composition(store("DirectoryStore", "/etc")),
    "up.json": composition(store("DirectoryStore", "../outside/secret.zarr")),
    "link.json": composition(store("DirectoryStore", "link/secret.zarr")),
    "file-url.json": composition(store("FSStore", `file://${outside}/secret.zarr`)),
    "url.json": composition(store("FSStore", `${server.url}/secret.zarr`)),
    "ok.json": composition(store("DirectoryStore", "inside.zarr")),
  };
  for (const [name, config] of Object.entries(configs)) {
    await writeFile(path.join(dl, name), JSON.stringify(config));
  }
});
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The refusal: exit 2, one short line on stderr, nothing on stdout. */
function expectRefused(r: Run, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stderr.length).toBeLessThan(400);
  expect(r.stderr).toMatch(pattern);
}

describe("the CLI confines every config to its folder", () => {
  it("cat of a store pointing at /etc is refused", async () => {
    expectRefused(
      await cli(["cat", path.join(dl, "etc.json"), "hostname"]),
      /^error: config\.args\[0\]\.config\.args\[0\]: path "\/etc" resolves to \/etc, outside /,
    );
  });

  for (const [name, why] of [
    ["up.json", /outside/],
    ["link.json", /symbolic link/],
    ["file-url.json", /outside/],
  ] as const) {
    it(`cat through ${name} is refused, and allowed with --allow-outside`, async () => {
      expectRefused(await cli(["cat", path.join(dl, name), "token"]), why);
      const allowed = await cli(["cat", path.join(dl, name), "token", "--allow-outside"]);
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stdout).toBe("s3cr3t");
    });
  }

  it("info, ls and verify refuse it too", async () => {
    for (const args of [["info"], ["ls"], ["verify", path.join(dl, "inside.zarr")]]) {
      const [cmd, ...rest] = args;
      expectRefused(await cli([cmd as string, path.join(dl, "up.json"), ...rest]), /outside/);
    }
  });

  it("consolidate does not write outside the folder", async () => {
    expectRefused(await cli(["consolidate", path.join(dl, "up.json")]), /outside/);
    expectRefused(await cli(["consolidate", path.join(dl, "link.json")]), /symbolic link/);
    expect((await readdir(path.join(outside, "secret.zarr"))).sort()).toEqual(["token", "zarr.json"]);
  });

  it("convert of /etc is refused before anything is written", async () => {
    const out = path.join(dir, "converted");
    expectRefused(await cli(["convert", path.join(dl, "etc.json"), "--to", "zip", "--out", out]), /outside/);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
  });

  it("a config naming a URL is refused without a request, and followed with --allow-urls", async () => {
    const before = server.requests.length;
    expectRefused(await cli(["cat", path.join(dl, "url.json"), "token"]), /names the URL .*--allow-urls/);
    expect(server.requests.length).toBe(before);
    const allowed = await cli(["cat", path.join(dl, "url.json"), "token", "--allow-urls"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toBe("s3cr3t");
  });

  it("a config whose stores are inside its folder opens as before", async () => {
    const r = await cli(["info", path.join(dl, "ok.json"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).kind).toBe("config");
  });
});
