import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore } from "../src/node.js";
import { cli, sameArrays } from "./helpers/cli-in-process.js";
import { python, tensorstorePython } from "./helpers/python.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/python-seed", import.meta.url));
let work: string;
let demo: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "pack-cli-"));
  demo = path.join(work, "demo");
  const r = await cli(["demo", "--out", demo, "--no-progress"]);
  expect(r.code).toBe(0);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("shardedstore pack / unpack", () => {
  it("packs a composition store by store; every array reads equal; unpack gives the composition's keys and bytes back", async () => {
    const out = path.join(work, "packed");
    const r = await cli([
      "pack",
      path.join(demo, "sharded/composition.json"),
      "--out",
      out,
      "--shard",
      "simulation/coarse/foo:1,4,4",
      "--shard",
      "simulation/fine/foo:1,1,4",
      "--shard",
      "simulation/coarse/bar:4",
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.arrays).toEqual(["simulation/coarse/bar", "simulation/coarse/foo", "simulation/fine/foo"]);
    expect(report.keysAfter).toBeLessThan(report.keysBefore);
    const config = path.join(out, "composition.json");
    expect(await sameArrays(config, path.join(demo, "single.zarr"))).toEqual({ compared: 11, differ: [] });
    // Each index store of the sharded array is packed on its own.
    const idx = JSON.parse(
      await readFile(path.join(out, "data/simulation/coarse/foo/1.zarr/zarr.json"), "utf8"),
    );
    expect(idx.shape).toEqual([4, 5]);
    expect(idx.codecs[0].name).toBe("sharding_indexed");
    expect(idx.chunk_grid.configuration.chunk_shape).toEqual([4, 4]);
    // tensorstore reads a packed index store
    const ts = await tensorstorePython(
      `
import sys, json, tensorstore as ts
a = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": sys.argv[1]}}).result()
print(json.dumps(a.read().result().tolist()))
`,
      path.join(out, "data/simulation/coarse/foo/1.zarr"),
    );
    const arr = await zarr.open(
      zarr.root(new DirectoryStore(path.join(demo, "single.zarr"))).resolve("simulation/coarse/foo"),
      {
        kind: "array",
      },
    );
    const want = (await zarr.get(arr, [1, null, null])) as { data: Float64Array };
    expect((JSON.parse(ts) as number[][]).flat()).toEqual(Array.from(want.data));
    const back = path.join(work, "unpacked");
    const u = await cli(["unpack", config, "--out", back, "--no-progress"]);
    expect(u.code).toBe(0);
    const same = await cli([
      "verify",
      path.join(back, "composition.json"),
      path.join(demo, "sharded/composition.json"),
    ]);
    expect(same.stdout).toContain("OK: identical");
    expect(same.code).toBe(0);
  });

  it("packs zarr-python's v2 store (dot and slash separators) except its string arrays, which it names", async () => {
    for (const sep of ["dot", "slash"]) {
      const single = path.join(FIXTURES, sep, "single.zarr");
      const bad = await cli([
        "pack",
        single,
        "--out",
        path.join(work, `${sep}-bad.zarr`),
        "--shard",
        "simulation/fine/foo:1,1,4",
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/array shard "(people|species)": dtype "<U5" has no Zarr v3 data type/);
    }
  });

  it("rejects bad --shard specs with a usage error", async () => {
    const src = path.join(demo, "single.zarr");
    for (const [spec, msg] of [
      ["foo", /expected ARRAY:SHAPE/],
      ["simulation/coarse/foo:0,4,4", /positive integer/],
      ["../x:4", /not a path inside the hierarchy/],
      ["simulation/coarse/foo:3,3,4", /multiple of the chunk shape \[1,2,2\]/],
      ["nothing/here:4", /no array at this path/],
    ] as const) {
      const r = await cli(["pack", src, "--out", path.join(work, "bad.zarr"), "--shard", spec]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const none = await cli(["pack", src, "--out", path.join(work, "bad.zarr")]);
    expect(none.stderr).toMatch(/at least one --shard/);
    // A URL output is refused before anything is written (never a local folder named "s3:").
    for (const [cmd, out] of [
      ["pack", "s3://bucket/packed.zarr"],
      ["unpack", "https://host/x.zarr"],
    ] as const) {
      const before = await readdir(process.cwd());
      const r = await cli([
        cmd,
        src,
        "--out",
        out,
        ...(cmd === "pack" ? ["--shard", "simulation/coarse/foo:2,4,4"] : []),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--out ${out}: ${cmd} writes a local folder or zip`);
      expect(await readdir(process.cwd())).toEqual(before);
    }
    const split = await cli([
      "pack",
      path.join(demo, "sharded/composition.json"),
      "--out",
      path.join(work, "bad"),
      "--shard",
      "simulation/coarse/foo:3,4,4",
    ]);
    expect(split.code).toBe(2);
    expect(split.stderr).toMatch(/split into index stores over 1 dimension.*must be 1 there/);
  });
});

const entries = async (zip: string) =>
  JSON.parse(
    await python(
      "import sys, json, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({'names': [i.filename for i in z.infolist()], 'comment': z.comment.decode(), 'methods': sorted({i.compress_type for i in z.infolist()})}))",
      zip,
    ),
  ) as { names: string[]; comment: string; methods: number[] };

const isMeta = (n: string) => /(^|\/)(zarr\.json|\.zgroup|\.zarray|\.zattrs|\.zmetadata)$/.test(n);

/** Metadata entries lead, root first, then by depth. */
function expectMetadataFirst(names: readonly string[]): void {
  const firstData = names.findIndex((n) => !isMeta(n));
  const meta = names.filter(isMeta);
  expect(firstData === -1 ? names.length : firstData).toBe(meta.length);
  const depths = meta.map((n) => n.split("/").length);
  expect(depths).toEqual([...depths].sort((a, b) => a - b));
}

describe("zips laid out for reading", () => {
  it("merge and convert --to zip write every metadata document first, root first, breadth-first", async () => {
    const merged = path.join(work, "merged.zip");
    expect(
      (await cli(["merge", path.join(demo, "sharded/composition.json"), "--out", merged, "--no-progress"]))
        .code,
    ).toBe(0);
    const m = await entries(merged);
    expect(m.names[0]).toBe("zarr.json");
    expectMetadataFirst(m.names);
    expect(m.names.filter(isMeta).length).toBeGreaterThan(10);
    const v2 = path.join(work, "merged-v2.zip");
    expect(
      (await cli(["merge", path.join(FIXTURES, "dot/config.json"), "--out", v2, "--no-progress"])).code,
    ).toBe(0);
    const m2 = await entries(v2);
    expect(m2.names[0]).toMatch(/^\.z(group|attrs)$/);
    expectMetadataFirst(m2.names);
    const conv = path.join(work, "conv");
    expect(
      (
        await cli([
          "convert",
          path.join(demo, "sharded/composition.json"),
          "--to",
          "zip",
          "--out",
          conv,
          "--no-progress",
        ])
      ).code,
    ).toBe(0);
    const base = await entries(path.join(conv, "data.zarr.zip"));
    expect(base.names[0]).toBe("zarr.json");
    expectMetadataFirst(base.names);
  });

  it("merge --ozx writes the OME-Zarr RFC-9 zip: ZIP64, stored, packed arrays, zarr.json first, the ome comment; tensorstore reads it", async () => {
    const ome = path.join(work, "ome.zarr");
    const root = zarr.root(new DirectoryStore(ome));
    await zarr.create(root, {
      attributes: { ome: { version: "0.5", multiscales: [{ datasets: [{ path: "0" }, { path: "1" }] }] } },
    });
    for (const [p, n] of [
      ["0", 16],
      ["1", 8],
    ] as const) {
      const a = await zarr.create(root.resolve(p), {
        shape: [3, n, n],
        chunkShape: [1, 4, 4],
        dtype: "uint16",
        fillValue: 0,
      });
      const data = new Uint16Array(3 * n * n).map((_, i) => (i * 13) % 1000);
      await zarr.set(a, null, { data, shape: [3, n, n], stride: [n * n, n, 1] });
    }
    const ozx = path.join(work, "image.ozx");
    const r = await cli(["merge", ome, "--out", ozx, "--ozx", "--json"]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({ format: "ozx", packed: ["0", "1"], ome: "0.5" });
    const z = await entries(ozx);
    expect(z.names.slice(0, 3)).toEqual(["zarr.json", "0/zarr.json", "1/zarr.json"]);
    expect(z.names.length).toBe(5); // 3 documents + one shard per array
    expect(JSON.parse(z.comment)).toEqual({ ome: { version: "0.5" } });
    expect(z.methods).toEqual([0]);
    const bytes = await readFile(ozx);
    const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    expect(bytes.readUInt32LE(eocd - 20)).toBe(0x07064b50); // ZIP64 locator
    const got = await tensorstorePython(
      `
import sys, json, tensorstore as ts
a = ts.open({"driver": "zarr3", "kvstore": {"driver": "zip", "base": {"driver": "file", "path": sys.argv[1]}, "path": "0/"}}).result()
print(json.dumps(a.read().result().flatten().tolist()))
`,
      ozx,
    );
    expect(JSON.parse(got)).toEqual(Array.from({ length: 3 * 16 * 16 }, (_, i) => (i * 13) % 1000));
    // .ozx files open wherever .zip files do
    const info = await cli(["info", ozx]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain("sharding_indexed");
    const bad = await cli(["merge", path.join(demo, "single.zarr"), "--out", path.join(work, "not-ome.ozx")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not OME-Zarr/);
  });
});
