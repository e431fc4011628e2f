import { cp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { openShardedStore } from "../src/node.js";
import { type PackedInstall, packedInstall } from "./helpers/packed-install.js";

let pkg: PackedInstall;
let work: string;
let demo: string;
beforeAll(async () => {
  pkg = await packedInstall();
  work = await pkg.workDir("demo");
  demo = path.join(work, "out");
  const r = await pkg.shardedstore(["demo", "--out", demo], { cwd: work });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
}, 300_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function countFiles(p: string, suffix = ""): Promise<number> {
  let n = 0;
  for (const e of await readdir(p, { withFileTypes: true, recursive: true }))
    if (e.isFile() && e.name.endsWith(suffix)) n++;
  return n;
}

describe("shardedstore demo", () => {
  it("with no arguments builds, converts, reopens and verifies the README's example in ./shardedstore-demo", async () => {
    const cwd = await pkg.workDir("demo-default");
    const r = await pkg.npx(["demo"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(
      "the README's example hierarchy (people, species, simulation/coarse, simulation/fine)",
    );
    expect(r.stdout).toMatch(
      /reopen the zip composition from its config, compare with single\.zarr +\d+(\.\d+)? (ms|s) +identical: 99 keys, 11 arrays by value/,
    );
    expect(r.stdout).toMatch(/files \(objects\) before → after converting to zips: 120 → 24/);
    for (const step of [
      "write sharded composition",
      "write the same data to one directory store",
      "convert the composition to zip shards",
    ]) {
      expect(r.stdout).toMatch(new RegExp(`${step}.* \\d+(\\.\\d+)? (ms|s) `));
    }
    await stat(path.join(cwd, "shardedstore-demo/zip/composition.json"));
    // A second run does not touch the first one's files.
    const again = await pkg.shardedstore(["demo"], { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("shardedstore-demo-2");
    await stat(path.join(cwd, "shardedstore-demo-2/single.zarr/zarr.json"));
    await rm(cwd, { recursive: true, force: true });
  });

  it("writes a directory composition, a single store and a zip composition that read the same", async () => {
    expect(await countFiles(path.join(demo, "zip"), ".zarr.zip")).toBe(24);
    expect(await countFiles(path.join(demo, "sharded"))).toBe(121); // 120 objects + the config
    expect(await countFiles(path.join(demo, "single.zarr"))).toBe(99);
    const sharded = await openShardedStore(path.join(demo, "zip/composition.json"));
    // zarrita 0.7's vlen-utf8 decoder ignores a view's byteOffset: hand it whole buffers.
    const zipped = { get: async (key: `/${string}`) => (await sharded.get(key))?.slice() };
    const foo = await zarr.open(zarr.root(zipped).resolve("simulation/fine/foo"), { kind: "array" });
    expect(foo.shape).toEqual([6, 3, 5]);
    const people = await zarr.get(await zarr.open(zarr.root(zipped).resolve("people"), { kind: "array" }));
    expect(Array.from(people.data as string[])).toEqual(["alice", "bob"]);
    const x = await zarr.get(
      await zarr.open(zarr.root(zipped).resolve("simulation/fine/x"), { kind: "array" }),
    );
    expect(Array.from(x.data as BigInt64Array)).toEqual([10n, 12n, 14n, 16n, 18n, 20n]);
  });

  it("--json reports steps, layouts and the verification", async () => {
    const out = path.join(work, "json");
    const r = await pkg.shardedstore(["demo", "--out", out, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.verify).toMatchObject({ identical: true, keys: 99, arrays: 11 });
    expect(j.steps).toHaveLength(4);
    expect(j.layouts.map((l: { stores: number; files: number }) => [l.stores, l.files])).toEqual([
      [1, 99],
      [24, 120],
      [24, 24],
    ]);
  });
});

describe("info, ls, cat", () => {
  it("info draws the composition: stores with keys and bytes, and the hierarchy with sharded dims", async () => {
    const r = await pkg.shardedstore(["info", path.join(demo, "zip/composition.json")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /24 stores \(1 base, 2 group shards, 21 array-shard stores for 2 sharded arrays\), 120 keys/,
    );
    // More than 20 stores: one line per mount, then the first five.
    expect(r.stdout).toMatch(/^Stores by mount \(24 stores; --all lists every one\)$/m);
    expect(r.stdout).toMatch(/^ {2}simulation\/fine\/foo +array +ZipStore +18 +72 +[\d.]+ KiB$/m);
    expect(r.stdout).toMatch(/^ {2}… 19 more stores$/m);
    expect(r.stdout).not.toMatch(/\[5, 2\]/);
    const all = await pkg.shardedstore(["info", path.join(demo, "zip/composition.json"), "--all"]);
    expect(all.stdout).toMatch(/^ {2}\(base\) +ZipStore +data\.zarr\.zip +23 +[\d.]+ KiB$/m);
    expect(all.stdout).toMatch(
      /^ {2}simulation\/fine\/foo +\[5, 2\] +ZipStore +data\/simulation\/fine\/foo\/5\/2\.zarr\.zip +4 +\d+ B$/m,
    );
    expect(r.stdout).toMatch(
      /│ {2}│ {2}├─ foo +array v3 {2}float64 {2}shape 3×4×5 {2}chunks 1×2×2 {2}codecs bytes,gzip {2}sharded on dim 0 → 3 stores/,
    );
    expect(r.stdout).toMatch(
      /├─ foo +array v3 {2}float64 {2}shape 6×3×5 {2}chunks 1×1×2 {2}codecs bytes,gzip {2}sharded on dims 0,1 → 18 stores/,
    );
    expect(r.stdout).toMatch(
      /├─ people +array v3 {2}string {2}shape 2 {2}chunks 2 {2}codecs vlen-utf8 {2}in shard people/,
    );
    const j = JSON.parse(
      (await pkg.shardedstore(["info", path.join(demo, "sharded/composition.json"), "--json"])).stdout,
    );
    expect(j.totals).toEqual({ stores: 24, keys: 120, bytes: expect.any(Number) });
    expect(j.stores[0]).toMatchObject({
      kind: "base",
      type: "DirectoryStore",
      location: "data.zarr",
      keys: 23,
    });
    const fine = j.nodes.find((n: { path: string }) => n.path === "/simulation/fine/foo");
    expect(fine).toMatchObject({
      kind: "array",
      shape: [6, 3, 5],
      chunks: [1, 1, 2],
      dtype: "float64",
      sharding: { dims: [0, 1], stores: 18 },
    });
  });

  it("ls lists logical keys (under a prefix), -l shows size and store", async () => {
    const config = path.join(demo, "zip/composition.json");
    const all = await pkg.shardedstore(["ls", config]);
    expect(all.code).toBe(0);
    const keys = all.stdout.trim().split("\n");
    expect(keys).toHaveLength(99);
    expect(keys).toContain("/simulation/fine/foo/c/5/2/2");
    expect(keys).not.toContain("/simulation/fine/foo/c/zarr.json");
    const fine = await pkg.shardedstore(["ls", config, "simulation/fine/foo"]);
    expect(fine.stdout.trim().split("\n")).toHaveLength(1 + 6 * 3 * 3);
    const long = await pkg.shardedstore(["ls", config, "simulation/coarse/foo", "-l"]);
    expect(long.stdout).toMatch(
      /^ *\d+ B {2}simulation\/coarse\/foo\[2\] {2}\/simulation\/coarse\/foo\/c\/2\/1\/2$/m,
    );
    const j = JSON.parse((await pkg.shardedstore(["ls", config, "people", "-l", "--json"])).stdout);
    expect(j).toEqual([
      { key: "/people/c/0", bytes: 20, store: "people", index: null, innerKey: "/c/0" },
      {
        key: "/people/zarr.json",
        bytes: expect.any(Number),
        store: "people",
        index: null,
        innerKey: "/zarr.json",
      },
    ]);
    // The same shape without --long, sizes not measured.
    const short = JSON.parse((await pkg.shardedstore(["ls", config, "people", "--json"])).stdout);
    expect(short).toEqual(j.map((r: object) => ({ ...r, bytes: null })));
  });

  it("cat writes raw bytes, and pretty-prints JSON with --pretty", async () => {
    const config = path.join(demo, "zip/composition.json");
    const raw = await pkg.shardedstore(["cat", config, "people/c/0"]);
    expect(raw.code).toBe(0);
    expect(
      Buffer.from(raw.stdout, "latin1").equals(await readFile(path.join(demo, "single.zarr/people/c/0"))),
    ).toBe(true);
    const meta = await pkg.shardedstore(["cat", config, "/simulation/fine/foo/zarr.json", "--pretty"]);
    expect(meta.stdout).toContain('\n  "shape": [\n    6,\n    3,\n    5\n  ],');
    expect(JSON.parse(meta.stdout)).toEqual(
      JSON.parse(await readFile(path.join(demo, "single.zarr/simulation/fine/foo/zarr.json"), "utf8")),
    );
  });
});

describe("verify, convert, merge, consolidate", () => {
  it("verify exits 0 on identical stores and 1 listing every difference", async () => {
    const single = path.join(demo, "single.zarr");
    const ok = await pkg.shardedstore([
      "verify",
      path.join(demo, "zip/composition.json"),
      single,
      "--arrays",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("compared 99 common keys");
    expect(ok.stdout).toContain("11 arrays by value");
    expect(ok.stdout.trim().endsWith("OK: identical")).toBe(true);

    const tampered = path.join(work, "tampered.zarr");
    await cp(single, tampered, { recursive: true });
    const chunk = path.join(tampered, "simulation/coarse/bar/c/1");
    const bytes = await readFile(chunk);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    await writeFile(chunk, bytes);
    await unlink(path.join(tampered, "heights/c/0"));
    await writeFile(path.join(tampered, "extra"), "x");
    const bad = await pkg.shardedstore([
      "verify",
      path.join(demo, "sharded/composition.json"),
      tampered,
      "--arrays",
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("only in A (1):\n  /heights/c/0");
    expect(bad.stdout).toContain("only in B (1):\n  /extra");
    expect(bad.stdout).toMatch(
      /different bytes \(1\):\n {2}\/simulation\/coarse\/bar\/c\/1 \(\d+ B vs \d+ B\)/,
    );
    expect(bad.stdout).toMatch(
      /arrays that differ \(2\):\n {2}\/heights: .*\n {2}\/simulation\/coarse\/bar: /,
    );
    expect(bad.stdout).toContain("FAILED: 5 differences");
    expect(bad.stderr).toMatch(/^error: .* differ\n$/);
    const j = JSON.parse((await pkg.shardedstore(["verify", single, tampered, "--json"])).stdout);
    expect(j).toMatchObject({
      identical: false,
      onlyInA: ["/heights/c/0"],
      onlyInB: ["/extra"],
      differences: 3,
    });
  });

  it("convert --to zip is resumable and writes a config that reads the same", async () => {
    const out = path.join(work, "zips");
    const source = path.join(demo, "sharded/composition.json");
    const first = await pkg.shardedstore([
      "convert",
      source,
      "--to",
      "zip",
      "--out",
      out,
      "--concurrency",
      "2",
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Converted 24 stores to zip files in \d+/);
    expect(first.stdout).toContain("objects: 120 keys in 24 stores → 24 zip files");
    // An interrupted run leaves some zips missing: the rerun converts only those.
    await unlink(path.join(out, "data/simulation/fine/foo/3/1.zarr.zip"));
    await unlink(path.join(out, "data/people.zarr.zip"));
    const again = await pkg.shardedstore(["convert", source, "--to", "zip", "--out", out, "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ stores: 24, converted: 2, skipped: 22, filesAfter: 24 });
    const v = await pkg.shardedstore([
      "verify",
      path.join(out, "composition.json"),
      path.join(demo, "single.zarr"),
    ]);
    expect(v.code).toBe(0);
  });

  it("convert --to dir turns zips back into directories", async () => {
    const out = path.join(work, "dirs");
    const r = await pkg.shardedstore([
      "convert",
      path.join(demo, "zip/composition.json"),
      "--to",
      "dir",
      "--out",
      out,
    ]);
    expect(r.code).toBe(0);
    expect(await countFiles(out)).toBe(121);
    const v = await pkg.shardedstore([
      "verify",
      path.join(out, "composition.json"),
      path.join(demo, "sharded/composition.json"),
    ]);
    expect(v.code).toBe(0);
  });

  it("merge writes one directory store or one zip", async () => {
    const config = path.join(demo, "zip/composition.json");
    const dir = path.join(work, "merged.zarr");
    const zip = path.join(work, "merged.zarr.zip");
    const a = await pkg.shardedstore(["merge", config, "--out", dir]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain("Merged 24 stores into one directory store");
    expect(a.stdout).toContain("copied: 99 keys");
    const b = await pkg.shardedstore(["merge", config, "--out", zip, "--json"]);
    expect(JSON.parse(b.stdout)).toMatchObject({ format: "zip", stores: 24, keys: 99 });
    for (const merged of [dir, zip]) {
      const v = await pkg.shardedstore(["verify", merged, path.join(demo, "single.zarr"), "--arrays"]);
      expect(v.code, merged).toBe(0);
    }
  });

  it("consolidate writes v3 consolidated metadata that zarrita's withConsolidatedMetadata reads", async () => {
    const copy = path.join(work, "consolidated");
    await cp(path.join(demo, "sharded"), copy, { recursive: true });
    const config = path.join(copy, "composition.json");
    const r = await pkg.shardedstore(["consolidate", config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "Consolidated 15 nodes (Zarr v3) into the root zarr.json (consolidated_metadata)\n",
    );
    const root = JSON.parse(await readFile(path.join(copy, "data.zarr/zarr.json"), "utf8"));
    expect(Object.keys(root)).toEqual(["attributes", "zarr_format", "consolidated_metadata", "node_type"]);
    expect(Object.keys(root.consolidated_metadata.metadata)).toEqual([
      "heights",
      "people",
      "simulation",
      "species",
      "simulation/coarse",
      "simulation/fine",
      "simulation/coarse/bar",
      "simulation/coarse/baz",
      "simulation/coarse/foo",
      "simulation/coarse/x",
      "simulation/fine/bar",
      "simulation/fine/baz",
      "simulation/fine/foo",
      "simulation/fine/x",
    ]);
    expect(root.consolidated_metadata.metadata.simulation.consolidated_metadata).toEqual({
      kind: "inline",
      must_understand: false,
      metadata: {},
    });
    const sharded = await openShardedStore(config);
    const gets: string[] = [];
    const counting = {
      get: async (key: `/${string}`) => {
        gets.push(key);
        return sharded.get(key);
      },
    };
    const store = await zarr.withConsolidatedMetadata(counting, { format: "v3" });
    expect(store.contents()).toHaveLength(15);
    const foo = await zarr.open(zarr.root(store).resolve("simulation/fine/foo"), { kind: "array" });
    expect(foo.shape).toEqual([6, 3, 5]);
    // One request for the whole hierarchy's v3 metadata (zarrita still probes for v2 documents).
    expect(gets.filter((k) => k.endsWith("zarr.json"))).toEqual(["/zarr.json"]);
    const v = await pkg.shardedstore(["verify", config, path.join(demo, "sharded/composition.json")]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain("different bytes (1):\n  /zarr.json");
  });
});
