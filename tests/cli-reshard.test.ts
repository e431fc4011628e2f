import { readdir, readFile, rm } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore } from "../src/node.js";
import { exec, type PackedInstall, packedInstall } from "./helpers/packed-install.js";
import { python } from "./helpers/python.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/python-seed", import.meta.url));
const SHARDS = ["--group", "people", "--group", "species", "--group", "observations"];
const ARRAYS = ["--array", "simulation/coarse/foo:1", "--array", "simulation/fine/foo:2"];

let pkg: PackedInstall;
let work: string;
beforeAll(async () => {
  pkg = await packedInstall();
  work = await pkg.workDir("reshard");
}, 300_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function files(p: string, suffix: string): Promise<string[]> {
  return (await readdir(p, { recursive: true })).filter((f) => f.endsWith(suffix)).sort();
}

describe("shardedstore reshard", () => {
  for (const sep of ["slash", "dot"]) {
    it(`splits zarr-python's v2 store (${sep} separator) into directory shards that read identical`, async () => {
      const single = path.join(FIXTURES, sep, "single.zarr");
      const out = path.join(work, `${sep}-dir`);
      const r = await pkg.shardedstore(["reshard", single, "--out", out, ...SHARDS, ...ARRAYS]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Resharded .* into 25 directory stores in \d+/);
      expect(r.stdout).toContain("copied:  128 keys");
      expect(r.stdout).toContain("stores:  1 base, 3 group shards, 21 array-shard stores (2 sharded arrays)");
      expect(await files(path.join(out, "data/simulation/coarse/foo"), ".zarray")).toEqual([
        "0.zarr/.zarray",
        "1.zarr/.zarray",
        "2.zarr/.zarray",
      ]);
      const config = path.join(out, "composition.json");
      const same = await pkg.shardedstore(["verify", config, single, "--arrays"]);
      expect(same.stdout).toContain("13 arrays by value");
      expect(same.code).toBe(0);
      // The Python original's own sharded layout of the same data reads the same too.
      const original = await pkg.shardedstore(["verify", config, path.join(FIXTURES, sep, "config.json")]);
      expect(original.code).toBe(0);
      // Each index store is a standalone v2 array zarr-python opens.
      const shape = await python(
        "import sys, zarr; print(list(zarr.open_array(zarr.DirectoryStore(sys.argv[1]), mode='r').shape))",
        path.join(out, "data/simulation/fine/foo/5/2.zarr"),
      );
      expect(shape.trim()).toBe("[5]");
    });
  }

  it("writes zip shards, saved read-only in the config, from a zip source", async () => {
    const single = path.join(FIXTURES, "slash/single.zarr");
    const zip = path.join(work, "single.zarr.zip");
    expect((await pkg.shardedstore(["merge", single, "--out", zip])).code).toBe(0);
    const out = path.join(work, "zips");
    const r = await pkg.shardedstore([
      "reshard",
      zip,
      "--out",
      out,
      "--shard-type",
      "zip",
      "--group",
      "people",
      ...ARRAYS,
      "--json",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      shardType: "zip",
      keys: 128,
      stores: 23,
      groupShards: 1,
      arrayShardStores: 21,
    });
    expect(await files(out, ".zarr.zip")).toHaveLength(23);
    const config = JSON.parse(await readFile(path.join(out, "composition.json"), "utf8"));
    expect(config.config.args[0]).toMatchObject({
      name: "ZipStore",
      config: { args: ["data.zarr.zip"], kwargs: { mode: "r" } },
    });
    expect(config.config.kwargs.array_shard_factories["simulation/fine/foo"]).toMatchObject({ kind: "zip" });
    const v = await pkg.shardedstore(["verify", path.join(out, "composition.json"), single, "--arrays"]);
    expect(v.code).toBe(0);
  });

  it("reshards a v3 store written by zarrita, and a composition into another layout", async () => {
    const demo = path.join(work, "demo");
    expect((await pkg.shardedstore(["demo", "--out", demo, "--json"])).code).toBe(0);
    const out = path.join(work, "v3");
    const r = await pkg.shardedstore([
      "reshard",
      path.join(demo, "single.zarr"),
      "--out",
      out,
      "--group",
      "simulation/coarse",
      "--array",
      "simulation/fine/foo:1",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("stores:  1 base, 1 group shard, 6 array-shard stores (1 sharded array)");
    const v = await pkg.shardedstore([
      "verify",
      path.join(out, "composition.json"),
      path.join(demo, "zip/composition.json"),
      "--arrays",
    ]);
    expect(v.code).toBe(0);
    const again = path.join(work, "v3-again");
    const r2 = await pkg.shardedstore([
      "reshard",
      path.join(out, "composition.json"),
      "--out",
      again,
      "--array",
      "simulation/coarse/foo:1",
    ]);
    expect(r2.code).toBe(0);
    const v2 = await pkg.shardedstore([
      "verify",
      path.join(again, "composition.json"),
      path.join(demo, "single.zarr"),
    ]);
    expect(v2.code).toBe(0);
  });
});

describe("shardedstore consolidate (v2)", () => {
  it("writes the .zmetadata zarr-python writes, and zarr-python and zarrita open it", async () => {
    const single = path.join(FIXTURES, "slash/single.zarr");
    const out = path.join(work, "consolidated-v2");
    expect((await pkg.shardedstore(["reshard", single, "--out", out, ...SHARDS, ...ARRAYS])).code).toBe(0);
    // Drop the copied .zmetadata so the one checked below is ours.
    await rm(path.join(out, "data.zarr/.zmetadata"));
    const config = path.join(out, "composition.json");
    const r = await pkg.shardedstore(["consolidate", config]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Consolidated 19 nodes (Zarr v2) into .zmetadata\n");
    const ours = JSON.parse(await readFile(path.join(out, "data.zarr/.zmetadata"), "utf8"));
    const theirs = JSON.parse(await readFile(path.join(single, ".zmetadata"), "utf8"));
    expect(ours).toEqual(theirs);
    const merged = path.join(work, "consolidated-v2-merged.zarr");
    expect((await pkg.shardedstore(["merge", config, "--out", merged])).code).toBe(0);
    const names = await python(
      "import sys, zarr; g = zarr.open_consolidated(zarr.DirectoryStore(sys.argv[1]), mode='r'); print(sorted(g['simulation/fine'].array_keys()))",
      merged,
    );
    expect(names.trim()).toBe("['bar', 'baz', 'foo', 'x']");
    const store = await zarr.withConsolidatedMetadata(new DirectoryStore(merged), { format: "v2" });
    expect(store.contents().filter((c) => c.kind === "array")).toHaveLength(13);
  });
});

describe("progress bars", () => {
  it("are drawn on a terminal for work that takes more than a moment, never into a pipe", async () => {
    const big = path.join(work, "big.zarr");
    const arr = await zarr.create(zarr.root(new DirectoryStore(big)).resolve("a"), {
      shape: [60, 25],
      chunkShape: [1, 1],
      dtype: "int32",
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
      fillValue: 0,
    });
    await zarr.create(zarr.root(new DirectoryStore(big)));
    await zarr.set(arr, null, {
      data: Int32Array.from({ length: 1500 }, (_, i) => i),
      shape: [60, 25],
      stride: [25, 1],
    });
    const bin = path.join(pkg.dir, "node_modules/.bin/shardedstore");
    // `script` gives the command a terminal (stdout and stderr both go to it).
    const tty = await exec(
      "script",
      [
        "-qec",
        `${bin} reshard ${big} --out ${path.join(work, "big-tty")} --array a:1 --concurrency 1`,
        "/dev/null",
      ],
      work,
    );
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(/copying keys \[[█░]+\] \d+% \| \d+\/1502/);
    expect(tty.stdout).toContain("Resharded");
    const piped = await pkg.shardedstore([
      "reshard",
      big,
      "--out",
      path.join(work, "big-pipe"),
      "--array",
      "a:1",
      "--concurrency",
      "1",
    ]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe("");
    const quiet = await exec(
      "script",
      [
        "-qec",
        `${bin} reshard ${big} --out ${path.join(work, "big-quiet")} --array a:1 --no-progress`,
        "/dev/null",
      ],
      work,
    );
    expect(quiet.stdout).not.toContain("copying keys");
  });
});
