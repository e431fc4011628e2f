import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackedInstall, packedInstall } from "./helpers/packed-install.js";

let pkg: PackedInstall;
let work: string;
let config: string;
let zipConfig: string;
beforeAll(async () => {
  pkg = await packedInstall();
  work = await pkg.workDir("errors");
  const r = await pkg.shardedstore(["demo", "--out", path.join(work, "demo"), "--json"]);
  expect(r.code).toBe(0);
  config = path.join(work, "demo/sharded/composition.json");
  zipConfig = path.join(work, "demo/zip/composition.json");
  await writeFile(path.join(work, "not-json.json"), "{ oops");
  await writeFile(
    path.join(work, "unknown-store.json"),
    JSON.stringify({
      name: "ShardedStore",
      module: "shardedstore",
      config: {
        args: [{ name: "CloudStore", module: "zarr.storage", config: { args: ["x"], kwargs: {} } }],
        kwargs: {},
      },
    }),
  );
  await writeFile(path.join(work, "plain.txt"), "hello");
  await mkdir(path.join(work, "empty-dir"));
}, 300_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

// [what, args (with $C = dir config, $Z = zip config, $W = work folder), exit code, stderr pattern]
const CASES: [string, string[], number, RegExp][] = [
  ["no command", [], 2, /^Usage: shardedstore/],
  ["an unknown command", ["frobnicate"], 2, /^error: unknown command 'frobnicate'/],
  ["an unknown option", ["info", "$C", "--bogus"], 2, /^error: unknown option '--bogus'/],
  ["a missing argument", ["cat", "$C"], 2, /^error: missing required argument 'key'/],
  ["a missing config file", ["info", "$W/nope.json"], 2, /^error: no such file or directory: .*nope\.json$/m],
  [
    "a missing store",
    ["verify", "$W/nope.zarr", "$C"],
    2,
    /^error: no such file or directory: .*nope\.zarr$/m,
  ],
  ["a config that is not JSON", ["ls", "$W/not-json.json"], 2, /^error: .*not-json\.json is not valid JSON/],
  [
    "a config with an unknown store type",
    ["info", "$W/unknown-store.json"],
    2,
    /^error: config\.args\[0\]\.name: unknown store type "zarr\.storage\.CloudStore"/,
  ],
  [
    "a file that is no store",
    ["ls", "$W/plain.txt"],
    2,
    /is not a composition config \(\.json\), a Zarr directory or a zip file/,
  ],
  ["a directory that is no Zarr store", ["info", "$W/empty-dir"], 2, /is a directory but not a Zarr store/],
  ["a key that does not exist", ["cat", "$C", "people/nope"], 2, /^error: no key "\/people\/nope" in /],
  [
    "a key that escapes",
    ["cat", "$C", "../etc/passwd"],
    2,
    /^error: key: invalid key "\/\.\.\/etc\/passwd": '\.\.' segments/,
  ],
  ["--pretty on bytes that are not JSON", ["cat", "$C", "people/c/0", "--pretty"], 2, /is not JSON/],
  ["a prefix with no keys", ["ls", "$C", "simulation/nope"], 2, /^error: no keys under "simulation\/nope"/],
  [
    "convert without --to",
    ["convert", "$C", "--out", "$W/x"],
    2,
    /required option '--to <type>' not specified/,
  ],
  [
    "convert --to an unknown type",
    ["convert", "$C", "--to", "tar", "--out", "$W/x"],
    2,
    /Allowed choices are zip, dir/,
  ],
  [
    "a bad --concurrency",
    ["convert", "$C", "--to", "zip", "--out", "$W/x", "--concurrency", "0"],
    2,
    /must be a positive integer/,
  ],
  [
    "convert --form with an unknown form",
    ["convert", "$C", "--to", "zip", "--out", "$W/x", "--form", "dense"],
    2,
    /Allowed choices are compact, expanded/,
  ],
  [
    "convert --form with --part (a part writes no config)",
    ["convert", "$C", "--to", "zip", "--out", "$W/x-part", "--part", "1/2", "--form", "compact"],
    2,
    /^error: --form applies to a whole conversion/,
  ],
  [
    "convert of a plain store",
    ["convert", "$W/demo/single.zarr", "--to", "zip", "--out", "$W/x"],
    2,
    /not a composition config; use reshard/,
  ],
  [
    "convert onto its own config",
    ["convert", "$C", "--to", "dir", "--out", "$W/demo/sharded"],
    2,
    /would overwrite/,
  ],
  [
    "reshard into a folder that is not empty",
    ["reshard", "$W/demo/single.zarr", "--out", "$W/demo"],
    2,
    /is not empty; choose a new folder/,
  ],
  [
    "reshard of a group that does not exist",
    ["reshard", "$W/demo/single.zarr", "--out", "$W/r1", "--group", "nope"],
    2,
    /--group nope: there is no group or array "nope"/,
  ],
  [
    "reshard with a malformed --array",
    ["reshard", "$W/demo/single.zarr", "--out", "$W/r2", "--array", "simulation/fine/foo"],
    2,
    /expected PATH:DIMS/,
  ],
  [
    "reshard over a dimension not chunked by 1",
    ["reshard", "$W/demo/single.zarr", "--out", "$W/r3", "--array", "simulation/coarse/foo:2"],
    2,
    /chunk size along dimension 1 is 2/,
  ],
  [
    "reshard with nested mounts",
    [
      "reshard",
      "$W/demo/single.zarr",
      "--out",
      "$W/r4",
      "--group",
      "simulation",
      "--array",
      "simulation/fine/foo:1",
    ],
    2,
    /mount "simulation\/fine\/foo" is inside mount "simulation"/,
  ],
  ["merge onto an existing store", ["merge", "$C", "--out", "$W/demo/single.zarr"], 2, /is not empty/],
  [
    "consolidate of a read-only zip composition",
    ["consolidate", "$Z"],
    2,
    /cannot be written .*read-only.*consolidate the directory composition/,
  ],
  [
    "a sub-folder that is no Zarr store",
    ["verify", "$C", "$W/demo/single.zarr/heights/c"],
    2,
    /is a directory but not a Zarr store/,
  ],
];

describe("error paths: a message, no stack, the right exit code", () => {
  it.concurrent.each(CASES)("%s", async (_what, rawArgs, code, pattern) => {
    const args = rawArgs.map((a) => a.replace("$C", config).replace("$Z", zipConfig).replace("$W", work));
    const r = await pkg.shardedstore(args);
    expect(r.stderr).toMatch(pattern);
    expect(r.code).toBe(code);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    if (code !== 0 && rawArgs.length > 0) expect(r.stdout).toBe("");
  });

  it("exits 1 (not 2) when a check fails, after printing the report", async () => {
    const r = await pkg.shardedstore(["verify", config, path.join(work, "demo/sharded/data.zarr")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("only in A");
    expect(r.stderr).toMatch(/^error: .* differ\n$/);
  });

  it("refuses --form with --part before opening or writing anything", async () => {
    const out = path.join(work, "form-part");
    const r = await pkg.shardedstore([
      "convert",
      config,
      "--to",
      "dir",
      "--out",
      out,
      "--part",
      "2/3",
      "--form",
      "expanded",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--form applies to a whole conversion/);
    expect(existsSync(out)).toBe(false);
  });

  it("reports a user mistake through npx the same way", async () => {
    const r = await pkg.npx(["cat", config, "people/nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: no key "\/people\/nope" in .*\n$/);
  });
});
