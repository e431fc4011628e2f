import { access, readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type PackedInstall, packedInstall } from "./helpers/packed-install.js";

let pkg: PackedInstall;
beforeAll(async () => {
  pkg = await packedInstall();
}, 300_000);

const COMMANDS = [
  "demo",
  "info",
  "ls",
  "cat",
  "convert",
  "reshard",
  "merge",
  "verify",
  "consolidate",
  "export",
  "serve",
  "pack",
  "unpack",
  "plan",
  "finalize",
];

describe("the package installed from its tarball", () => {
  it("has the built JS, the types, the schema and an executable bin", async () => {
    const root = path.join(pkg.dir, "node_modules/shardedstore");
    for (const f of [
      "dist/index.js",
      "dist/index.d.ts",
      "dist/node.js",
      "dist/node.d.ts",
      "dist/cli/main.js",
      "config.schema.json",
    ]) {
      await access(path.join(root, f));
    }
    const main = await readFile(path.join(root, "dist/cli/main.js"), "utf8");
    expect(main.startsWith("#!/usr/bin/env node\n")).toBe(true);
    const bin = await stat(path.join(pkg.dir, "node_modules/.bin/shardedstore"));
    expect(bin.mode & 0o111).not.toBe(0);
  });

  it('imports "shardedstore" and "shardedstore/node" as a user does', async () => {
    const script = `
      const iso = await import("shardedstore");
      const node = await import("shardedstore/node");
      const zarr = await import("zarrita");
      const store = new iso.ShardedStore(new iso.MemoryStore(), { shards: { people: new iso.MemoryStore() } });
      await zarr.create(zarr.root(store));
      console.log(JSON.stringify({
        iso: ["ShardedStore", "MemoryStore", "ZipStore", "FetchStore"].every((n) => typeof iso[n] === "function"),
        node: ["DirectoryStore", "openShardedStore", "saveShardedStore", "toZipStoreWithPrefix", "arrayShardZipStore"].every((n) => typeof node[n] === "function"),
        keys: await (async () => { const out = []; for await (const k of store.list()) out.push(k); return out; })(),
      }));`;
    const r = await pkg.node(["--input-type=module", "-e", script]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ iso: true, node: true, keys: ["/zarr.json"] });
  });

  it("runs with npx: --help lists every command, --version prints the package version", async () => {
    const help = await pkg.npx(["--help"]);
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
    expect(help.stdout).toContain("Exit codes: 0 success, 1 a check failed");
    const version = await pkg.npx(["--version"]);
    expect(version.code).toBe(0);
    const own = JSON.parse(
      await readFile(path.join(pkg.dir, "node_modules/shardedstore/package.json"), "utf8"),
    );
    expect(version.stdout.trim()).toBe(own.version);
  });

  it("has --help on every command, with --json and --no-progress", async () => {
    const results = await Promise.all(COMMANDS.map((c) => pkg.shardedstore([c, "--help"])));
    results.forEach((r, i) => {
      expect(r.code, COMMANDS[i]).toBe(0);
      expect(r.stdout).toContain(`Usage: shardedstore ${COMMANDS[i]}`);
      expect(r.stdout).toContain("--json");
      expect(r.stdout).toContain("--no-progress");
      expect(r.stderr).toBe("");
    });
  });
});
