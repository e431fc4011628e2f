import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { saveShardedStore } from "../src/config/node-io.js";
import "../src/config/node-types.js";
import { DirectoryStore } from "../src/directory-store.js";
import type { ShardProgress } from "../src/map-shards.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { DEFAULT_LOCK_STALE_MS } from "../src/zip-lock.js";
import { arrayShardZipStore, toZipStoreWithPrefix } from "../src/zip-shards.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll, ramp, readArray } from "./helpers/arrays.js";

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-zipshards-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function countFiles(p: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(p, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}

const ARRAYS: [string, number[], number[]][] = [
  ["people/heights", [7], [3]],
  ["species/weights", [5, 4], [2, 2]],
  ["simulation/coarse/foo", [3, 4, 5], [1, 2, 2]],
  ["simulation/coarse/bar", [3], [2]],
  ["simulation/fine/foo", [6, 3, 5], [1, 1, 2]],
  ["simulation/fine/bar", [6], [2]],
];

async function buildExample(store: Store) {
  const root = zarr.root(store as zarr.Mutable);
  await zarr.create(root, { attributes: { title: "example" } });
  for (const g of ["people", "species", "simulation", "simulation/coarse", "simulation/fine"])
    await zarr.create(root.resolve(g));
  for (const [i, [p, shape, chunks]] of ARRAYS.entries()) {
    const a = await zarr.create(root.resolve(p), { shape, chunkShape: chunks, dtype: "float64" });
    const n = shape.reduce((x, y) => x * y, 1);
    const stride = shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1));
    await zarr.set(a, null, { data: new Float64Array(ramp(n, i + 1)), shape, stride } as never);
  }
}

function example(p: string): ShardedStore {
  return new ShardedStore(new DirectoryStore(`${p}/base.zarr`), {
    shards: {
      people: new DirectoryStore(`${p}/people.zarr`),
      species: new DirectoryStore(`${p}/species.zarr`),
    },
    arrayShards: {
      "simulation/coarse/foo": { dims: 1, factory: arrayShardDirectoryStore(`${p}/array_shards/coarse_foo`) },
      "simulation/fine/foo": { dims: 2, factory: arrayShardDirectoryStore(`${p}/array_shards/fine_foo`) },
    },
  });
}

describe("converting a composition to zip shards", () => {
  it("turns every shard into one zip, reads the same, and leaves the source untouched", async () => {
    const src = `${dir}/convert/src`;
    const single = new DirectoryStore(`${dir}/convert/single.zarr`);
    await buildExample(single);
    const sharded = example(src);
    await buildExample(sharded);
    const filesBefore = await countFiles(src);
    const events: ShardProgress[] = [];
    const zipped = await sharded.mapShards(toZipStoreWithPrefix(`${dir}/convert/zip/data`), {
      concurrency: 3,
      onProgress: (e) => events.push(e),
    });
    const zips = await countFiles(`${dir}/convert/zip`);
    console.log(`object count: ${filesBefore} files in directory shards → ${zips} zip files`);
    expect(zips).toBe(1 + 2 + 3 + 18);
    expect(zips).toBeLessThan(filesBefore / 4);
    expect((await stat(`${dir}/convert/zip/data.zarr.zip`)).isFile()).toBe(true);
    expect((await stat(`${dir}/convert/zip/data/simulation/fine/foo/5/2.zarr.zip`)).isFile()).toBe(true);
    expect((await stat(`${dir}/convert/zip/data/people.zarr.zip`)).isFile()).toBe(true);
    expect(await listAll(zipped)).toEqual(await listAll(single));
    for (const [p] of ARRAYS) expect(await readArray(zipped, p), p).toEqual(await readArray(single, p));
    expect(await countFiles(src)).toBe(filesBefore);
    expect(await listAll(sharded)).toEqual(await listAll(single));
    expect(events.filter((e) => e.type === "shard-done").length).toBe(24);
    expect(events.at(-1)?.totalBytes).toBeGreaterThan(0);
    // Each result shard is a read-only zip; the index stores can also be opened on their own.
    const one = zipped.resolve("/simulation/fine/foo/c/5/2/1").store;
    expect(one).toBeInstanceOf(ZipStore);
    expect((one as ZipStore).mode).toBe("r");
    const sub = await zarr.open(new ZipStore(`${dir}/convert/zip/data/simulation/coarse/foo/2.zarr.zip`), {
      kind: "array",
    });
    expect(sub.shape).toEqual([4, 5]);
  });

  it("saves the zipped composition to a config that a fresh process reopens and reads equal to the single store", async () => {
    const base = `${dir}/fresh`;
    const single = new DirectoryStore(`${base}/single.zarr`);
    await buildExample(single);
    const sharded = example(`${base}/src`);
    await buildExample(sharded);
    const zipped = await sharded.mapShards(toZipStoreWithPrefix(`${base}/zip/data`));
    await saveShardedStore(zipped, `${base}/zip/data.json`);
    const config = JSON.parse(await readFile(`${base}/zip/data.json`, "utf8"));
    expect(config.config.args[0].config.args).toEqual(["data.zarr.zip"]);
    expect(config.config.kwargs.array_shard_factories["simulation/fine/foo"]).toEqual({
      kind: "zip",
      prefix: "data/simulation/fine/foo",
      separator: "/",
    });
    const script = `
      import * as zarr from "zarrita";
      import { openShardedStore } from ${JSON.stringify(path.resolve("src/node.ts"))};
      const store = await openShardedStore(process.argv[2]);
      const out = {};
      for (const p of JSON.parse(process.argv[3])) {
        const a = await zarr.open(zarr.root(store).resolve(p), { kind: "array" });
        out[p] = Array.from((await zarr.get(a)).data);
      }
      const keys = [];
      for await (const k of store.list()) keys.push(k);
      console.log(JSON.stringify({ out, keys: keys.sort() }));
    `;
    // The script lives in the repository so that it resolves zarrita as a user's code would.
    await mkdir(path.resolve(".tmp"), { recursive: true });
    const scriptFile = path.resolve(`.tmp/fresh-${process.pid}.mts`);
    await writeFile(scriptFile, script);
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", scriptFile, `${base}/zip/data.json`, JSON.stringify(ARRAYS.map(([p]) => p))],
      {
        cwd: path.resolve("."),
        maxBuffer: 16 << 20,
      },
    );
    await rm(scriptFile);
    const got = JSON.parse(stdout);
    expect(got.keys).toEqual(await listAll(single));
    for (const [p] of ARRAYS) {
      const want = await readArray(single, p);
      expect(got.out[p], p).toEqual((want.values as unknown[]).flat(3));
    }
    const before = await countFiles(`${base}/src`);
    const after = await countFiles(`${base}/zip`);
    console.log(
      `objects: ${before} files as directory shards, ${after} after conversion (${after - 1} zips + the config)`,
    );
    expect(after).toBe(25);
  });

  it("lets a converted array grow into new zip index stores", async () => {
    const src = `${dir}/grow/src`;
    const sharded = example(src);
    await buildExample(sharded);
    const zipped = await sharded.mapShards(toZipStoreWithPrefix(`${dir}/grow/zip/data`));
    // The result's index stores are read-only zips; the factory for new ones appends to new zips.
    const meta = JSON.parse(new TextDecoder().decode(await zipped.get("/simulation/coarse/foo/zarr.json")));
    meta.shape = [4, 4, 5];
    const grown = new ShardedStore(new ZipStore(`${dir}/grow/zip/data.zarr.zip`, { mode: "a" }), {
      arrayShards: {
        "simulation/coarse/foo": {
          dims: 1,
          factory: arrayShardZipStore(`${dir}/grow/zip/data/simulation/coarse/foo`),
        },
      },
    });
    await grown.set("/simulation/coarse/foo/zarr.json", new TextEncoder().encode(JSON.stringify(meta)));
    const arr = await zarr.open(zarr.root(grown).resolve("simulation/coarse/foo"), { kind: "array" });
    await zarr.set(arr, [3, null, null], 2.5);
    await grown.close();
    expect((await stat(`${dir}/grow/zip/data/simulation/coarse/foo/3.zarr.zip`)).isFile()).toBe(true);
    const reopened = new ShardedStore(new ZipStore(`${dir}/grow/zip/data.zarr.zip`), {
      arrayShards: {
        "simulation/coarse/foo": {
          dims: 1,
          factory: (i) => new ZipStore(`${dir}/grow/zip/data/simulation/coarse/foo/${i.join("/")}.zarr.zip`),
        },
      },
    });
    const got = (await readArray(reopened, "simulation/coarse/foo")).values as number[][][];
    expect(got[3]?.flat().every((v) => v === 2.5)).toBe(true);
    expect(got.slice(0, 3)).toEqual((await readArray(sharded, "simulation/coarse/foo")).values);
  });

  it("an aborted conversion leaves no half-written zip, and running again finishes without redoing shards", async () => {
    const src = `${dir}/abort/src`;
    const sharded = example(src);
    await buildExample(sharded);
    const prefix = `${dir}/abort/zip/data`;
    const ctrl = new AbortController();
    let done = 0;
    const err = await sharded
      .mapShards(toZipStoreWithPrefix(prefix), {
        concurrency: 2,
        signal: ctrl.signal,
        onProgress: (e) => {
          if (e.type === "shard-done" && ++done === 5) ctrl.abort(new Error("stop"));
        },
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/aborted/);
    const zipsAfterAbort = (await readdir(`${dir}/abort/zip`, { recursive: true })).filter((f) =>
      String(f).endsWith(".zarr.zip"),
    );
    expect(zipsAfterAbort.length).toBeGreaterThanOrEqual(5);
    expect(zipsAfterAbort.length).toBeLessThan(24);
    // Every zip under its final name is complete: it opens and holds its shard's keys.
    for (const f of zipsAfterAbort)
      expect((await listAll(new ZipStore(`${dir}/abort/zip/${f}`))).length).toBeGreaterThan(0);
    const events: ShardProgress[] = [];
    const zipped = await sharded.mapShards(toZipStoreWithPrefix(prefix), {
      onProgress: (e) => events.push(e),
    });
    expect(events.filter((e) => e.type === "shard-skipped").length).toBe(zipsAfterAbort.length);
    expect(events.filter((e) => e.type === "shard-done").length).toBe(24 - zipsAfterAbort.length);
    expect(await listAll(zipped)).toEqual(await listAll(sharded));
  });

  it("a killed conversion leaves only complete zips under their final names, and a rerun completes it", async () => {
    const src = `${dir}/kill/src`;
    await buildExample(example(src));
    const prefix = `${dir}/kill/zip/data`;
    const script = `
      import { ShardedStore, DirectoryStore, arrayShardDirectoryStore, toZipStoreWithPrefix } from ${JSON.stringify(path.resolve("src/node.ts"))};
      const p = ${JSON.stringify(src)};
      const s = new ShardedStore(new DirectoryStore(p + "/base.zarr"), {
        shards: { people: new DirectoryStore(p + "/people.zarr"), species: new DirectoryStore(p + "/species.zarr") },
        arrayShards: {
          "simulation/coarse/foo": { dims: 1, factory: arrayShardDirectoryStore(p + "/array_shards/coarse_foo") },
          "simulation/fine/foo": { dims: 2, factory: arrayShardDirectoryStore(p + "/array_shards/fine_foo") },
        },
      });
      await s.mapShards(toZipStoreWithPrefix(${JSON.stringify(prefix)}), {
        concurrency: 1,
        onProgress: (e) => { if (e.type === "shard-done") console.log("done " + e.done); if (e.type === "bytes") console.log("bytes"); },
      });
      console.log("finished");
    `;
    await writeFile(`${dir}/kill.mts`, script);
    const child = spawn(process.execPath, ["--import", "tsx", `${dir}/kill.mts`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        // Kill in the middle of a shard: after 3 whole shards, on the next copied value.
        if (/done 3\n[\s\S]*bytes\n/.test(out.slice(out.indexOf("done 3")))) child.kill("SIGKILL");
      });
      child.on("exit", () => resolve());
    });
    expect(out).not.toContain("finished");
    const zips = (await readdir(`${dir}/kill/zip`, { recursive: true })).filter((f) =>
      String(f).endsWith(".zarr.zip"),
    );
    expect(zips.length).toBeGreaterThanOrEqual(3);
    expect(zips.length).toBeLessThan(24);
    for (const f of zips)
      expect((await listAll(new ZipStore(`${dir}/kill/zip/${f}`))).length).toBeGreaterThan(0);
    const source = example(src);
    // A lock the killed writer held stays until it goes stale: a rerun at once is refused, naming it.
    const locks = (await readdir(`${dir}/kill/zip`, { recursive: true })).filter((f) =>
      String(f).endsWith(".zarr.zip.lock"),
    );
    expect(locks.length).toBeLessThanOrEqual(1); // one shard at a time was being written
    if (locks.length === 1) {
      await expect(source.mapShards(toZipStoreWithPrefix(prefix))).rejects.toThrow(
        new RegExp(`another writer has the archive open \\(lock .*${locks[0]}\\).*expires after 15 s`),
      );
      await new Promise((r) => setTimeout(r, DEFAULT_LOCK_STALE_MS + 1000));
    }
    const complete = (await readdir(`${dir}/kill/zip`, { recursive: true })).filter((f) =>
      String(f).endsWith(".zarr.zip"),
    );
    expect(complete.length).toBeGreaterThanOrEqual(zips.length);
    const events: ShardProgress[] = [];
    const zipped = await source.mapShards(toZipStoreWithPrefix(prefix), {
      onProgress: (e) => events.push(e),
    });
    // Every zip complete before this run (the refused run may have finished some) is skipped.
    expect(events.filter((e) => e.type === "shard-skipped").length).toBe(complete.length);
    expect(await listAll(zipped)).toEqual(await listAll(source));
    for (const [p] of ARRAYS) expect(await readArray(zipped, p)).toEqual(await readArray(source, p));
  }, 90_000);

  it("redoes a zip whose keys no longer match the source", async () => {
    const src = `${dir}/stale/src`;
    const sharded = example(src);
    await buildExample(sharded);
    const prefix = `${dir}/stale/zip/data`;
    await sharded.mapShards(toZipStoreWithPrefix(prefix));
    await sharded.set(
      "/people/extra/zarr.json" as AbsolutePath,
      new TextEncoder().encode('{"zarr_format":3,"node_type":"group"}'),
    );
    const events: ShardProgress[] = [];
    const again = await sharded.mapShards(toZipStoreWithPrefix(prefix), {
      onProgress: (e) => events.push(e),
    });
    expect(events.filter((e) => e.type === "shard-done").map((e) => e.mount)).toEqual(["people"]);
    expect(await again.get("/people/extra/zarr.json")).toBeDefined();
  });
});
