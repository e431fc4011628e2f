// Bounded descriptors: file-backed ZipStores read through a shared pool of open archives.
import { readdir, readFile, readlink, realpath, stat, utimes, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore } from "../src/directory-store.js";
import { isShardedStoreError } from "../src/errors.js";
import { ShardedStore } from "../src/sharded-store.js";
import { ZipFilePool, zipFilePool } from "../src/zip-pool.js";
import { arrayShardZipStore } from "../src/zip-shards.js";
import { ZipStore } from "../src/zip-store-node.js";
import { run, tempDirPerFile, writeZip } from "./helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-pool-");
const decode = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
/**
 * Descriptors this process holds on the files named `${prefix}…`: only the archives under test (the
 * test process opens and closes descriptors of its own meanwhile; counting them all once failed
 * this test with 17 > 16 in a CI run beside other work).
 */
async function fdsOn(prefix: string): Promise<number> {
  let n = 0;
  for (const fd of await readdir("/proc/self/fd")) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => "");
    if (target.startsWith(prefix)) n++;
  }
  return n;
}

async function manyZips(n: number, name: string): Promise<string[]> {
  const files = Array.from({ length: n }, (_, i) => `${tmp.dir}/${name}-${i}.zip`);
  for (const [i, f] of files.entries()) await writeZip(f, { v: String(i), "w/x": "x".repeat(i) });
  return files;
}

describe("ZipFilePool", () => {
  it.each([false, true])(
    "300 stores read at once through a pool of 16 keep at most 16 archives open, and read right (blocking %s)",
    async (blocking) => {
      const files = await manyZips(300, `many-${blocking}`);
      const pool = new ZipFilePool({ maxOpen: 16, blocking });
      expect(pool.blocking).toBe(blocking);
      const stores = files.map((f) => new ZipStore(f, { pool }));
      const ours = `${await realpath(tmp.dir)}/many-${blocking}-`;
      expect(await fdsOn(ours)).toBe(0);
      let peak = 0;
      let peakFds = 0;
      const values = await Promise.all(
        stores.map(async (s, i) => {
          const v = decode(await s.get("/v"));
          const w = decode(await s.get("/w/x"));
          peak = Math.max(peak, pool.stats().open);
          if (i % 10 === 0) peakFds = Math.max(peakFds, await fdsOn(ours));
          return [v, w?.length];
        }),
      );
      expect(values).toEqual(files.map((_, i) => [String(i), i]));
      expect(peak).toBeLessThanOrEqual(16);
      expect(peakFds).toBeGreaterThan(0);
      expect(peakFds).toBeLessThanOrEqual(16);
      const s = pool.stats();
      expect(s.open).toBeLessThanOrEqual(16);
      expect(s.evictions).toBeGreaterThan(0);
      expect(s.inUse).toBe(0);
      expect(s.waiting).toBe(0);
      await Promise.all(stores.map((st) => st.close()));
      expect(pool.stats().open).toBe(0);
    },
  );

  it.each([false, true])(
    "several reads of one archive waiting for room at once all finish (no read waits on an archive another read opened; blocking %s)",
    async (blocking) => {
      const files = await manyZips(200, `waiters-${blocking}`);
      const pool = new ZipFilePool({ maxOpen: 16, blocking });
      const stores = files.map((f) => new ZipStore(f, { pool }));
      // Each store is asked for three values at once, before its directory is read: its reads wait
      // for room together, and the first to get it opens the archive for the others.
      const reads = Promise.all(
        stores.map((s) =>
          Promise.all([s.get("/v"), s.get("/w/x"), s.getRange("/v", { offset: 0, length: 1 })]),
        ),
      );
      const hung = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 20_000).unref());
      const got = await Promise.race([reads, hung]);
      expect(got, `pool ${JSON.stringify(pool.stats())}`).not.toBe("hung");
      const values = got as [Uint8Array | undefined, Uint8Array | undefined, Uint8Array | undefined][];
      values.forEach(([v, w, first], i) => {
        expect(decode(v)).toBe(String(i));
        expect(decode(w)).toBe("x".repeat(i));
        expect(decode(first)).toBe(String(i)[0]);
      });
      expect(pool.stats()).toMatchObject({ inUse: 0, waiting: 0 });
      expect(pool.stats().open).toBeLessThanOrEqual(16);
    },
  );

  it.each([false, true])(
    "reopens an evicted archive transparently, and lowering maxOpen closes idle descriptors (blocking %s)",
    async (blocking) => {
      const files = await manyZips(6, `evict-${blocking}`);
      const pool = new ZipFilePool({ maxOpen: 4, blocking });
      const stores = files.map((f) => new ZipStore(f, { pool }));
      for (const s of stores) await s.get("/v");
      expect(pool.stats().open).toBe(4);
      const opens = pool.stats().opens;
      expect(decode(await stores[0]!.get("/v"))).toBe("0"); // evicted earlier: opened again
      expect(pool.stats().opens).toBe(opens + 1);
      pool.maxOpen = 1;
      await new Promise((r) => setTimeout(r, 50));
      expect(pool.stats().open).toBe(1);
      expect(() => new ZipFilePool({ maxOpen: 0 })).toThrow(/maxOpen must be a whole number ≥ 1, got 0/);
      expect(() => {
        pool.maxOpen = 1.5;
      }).toThrow(TypeError);
    },
  );

  it("uses the process-wide pool (128 by default) when given none", async () => {
    expect(zipFilePool.maxOpen).toBe(128);
    const [file] = await manyZips(1, "default");
    const z = new ZipStore(file!);
    const before = zipFilePool.stats().opens;
    await z.get("/v");
    expect(zipFilePool.stats().opens).toBe(before + 1);
    await z.close();
  });

  it.each([false, true])(
    "an archive replaced under an evicted reader: one clear error, then the new archive is read (blocking %s)",
    async (blocking) => {
      const file = `${tmp.dir}/replaced-${blocking}.zip`;
      const other = `${tmp.dir}/replaced-other-${blocking}.zip`;
      await writeZip(file, { v: "old", pad: "x".repeat(100) });
      await writeZip(other, { v: "other" });
      const pool = new ZipFilePool({ maxOpen: 1, blocking });
      const reader = new ZipStore(file, { pool });
      expect(decode(await reader.get("/v"))).toBe("old");
      await new ZipStore(other, { pool }).get("/v"); // evicts the reader's descriptor
      await writeZip(file, { v: "new and longer", extra: "1" });
      const err = await reader.get("/v").catch((e: unknown) => e);
      expect(isShardedStoreError(err, "StoreError")).toBe(true);
      expect((err as Error).message).toMatch(
        /replaced-(true|false)\.zip\): get "\/v" failed: the archive was replaced since its directory was read/,
      );
      expect(decode(await reader.get("/v"))).toBe("new and longer");
      // A missing archive: the same clear error either way, and no descriptor left counted.
      const missing = await new ZipStore(`${tmp.dir}/missing-${blocking}.zip`, { pool })
        .get("/v")
        .catch((e: unknown) => e);
      expect(isShardedStoreError(missing, "StoreError")).toBe(true);
      expect((missing as Error).message).toMatch(/missing-(true|false)\.zip\): get "\/v" failed: .*ENOENT/);
      expect(pool.stats()).toMatchObject({ inUse: 0, waiting: 0 });
      expect(pool.stats().open).toBeLessThanOrEqual(1);
    },
  );

  it("a zarrita read of an array in 300 zip index stores succeeds in a process limited to 128 descriptors", async () => {
    const dir = `${tmp.dir}/ulimit`;
    const sharded = new ShardedStore(new DirectoryStore(`${dir}/base.zarr`), {
      arrayShards: { a: { dims: 1, factory: arrayShardZipStore(`${dir}/a`) } },
    });
    const arr = await zarr.create(zarr.root(sharded).resolve("a"), {
      shape: [300, 4],
      chunkShape: [1, 4],
      dtype: "uint8",
    });
    const data = Uint8Array.from({ length: 1200 }, (_, i) => i % 251);
    // In batches: each index store holds one descriptor while it is being written.
    for (let i = 0; i < 300; i += 50) {
      await zarr.set(arr, [zarr.slice(i, i + 50), null], {
        data: data.slice(i * 4, (i + 50) * 4),
        shape: [50, 4],
        stride: [4, 1],
      });
      await sharded.close();
    }
    const script = `
      import * as zarr from ${JSON.stringify(path.resolve("node_modules/zarrita/dist/src/index.js"))};
      import { DirectoryStore, ShardedStore, arrayShardZipStore } from ${JSON.stringify(path.resolve("src/node.ts"))};
      const s = new ShardedStore(new DirectoryStore(${JSON.stringify(`${dir}/base.zarr`)}), {
        arrayShards: { a: { dims: 1, factory: arrayShardZipStore(${JSON.stringify(`${dir}/a`)}) } },
      });
      const arr = await zarr.open(zarr.root(s).resolve("a"), { kind: "array" });
      const got = await zarr.get(arr);
      let sum = 0;
      for (const v of got.data) sum += v;
      console.log(got.data.length, sum);
    `;
    await writeFile(`${dir}/read.mts`, script);
    const node = JSON.stringify(process.execPath);
    const res = await run("bash", ["-c", `ulimit -n 128 && exec ${node} --import tsx ${dir}/read.mts`]);
    expect(res.stdout.trim()).toBe(`1200 ${data.reduce((a, b) => a + b, 0)}`);
    const zips = (await readdir(`${dir}/a`)).filter((f) => f.endsWith(".zarr.zip"));
    expect(zips.length).toBe(300);
  }, 120_000);

  it.each([false, true])(
    "an archive evicted from the pool keeps its index while among the last 4 × maxOpen evicted, and nothing after (blocking %s)",
    async (blocking) => {
      const pool = new ZipFilePool({ maxOpen: 1, blocking });
      const files = Array.from({ length: 6 }, (_, i) => `${tmp.dir}/evict-${i}-${blocking}.zip`);
      await writeZip(files[0]!, { v: "old1" });
      for (const f of files.slice(1)) await writeZip(f, { v: "bbbb" });
      await utimes(files[0]!, 1_700_000_000, 1_700_000_000); // whole seconds: restorable exactly below
      const [za, ...others] = files.map((f) => new ZipStore(f, { pool }));
      expect(decode(await za!.get("/v"))).toBe("old1");
      // Rewritten in place with the same size, inode and mtime: the pool's identity check passes,
      // so only a store that forgot its index sees the new directory.
      const before = await stat(files[0]!);
      await writeZip(`${files[0]}.new`, { w: "new2" });
      const bytes = await readFile(`${files[0]}.new`);
      expect(bytes.length).toBe(before.size);
      await writeFile(files[0]!, bytes);
      await utimes(files[0]!, 1_700_000_000, 1_700_000_000);
      expect((await stat(files[0]!)).mtimeMs).toBe(before.mtimeMs);
      expect((await stat(files[0]!)).ino).toBe(before.ino);
      // Open, and then evicted once: it answers from the index it read ("/w" is not in it).
      expect(await za!.get("/w")).toBeUndefined();
      expect(decode(await others[0]!.get("/v"))).toBe("bbbb"); // takes the only descriptor
      expect(pool.stats().evictions).toBe(1);
      expect(await za!.get("/w")).toBeUndefined();
      // Four more archives read after it: it left the window of 4 × maxOpen evicted archives.
      for (const o of others) expect(decode(await o.get("/v"))).toBe("bbbb");
      expect(pool.stats().evictions).toBe(5); // a, then four others: five evicted, a the oldest
      expect(decode(await za!.get("/w"))).toBe("new2");
      expect(await za!.get("/v")).toBeUndefined();
      const keys: string[] = [];
      for await (const k of za!.list()) keys.push(k);
      expect(keys).toEqual(["/w"]);
      await Promise.all([za!, ...others].map((z) => z.close()));
    },
  );

  it("a store that closes its own archive is not evicted and keeps reading right", async () => {
    const pool = new ZipFilePool({ maxOpen: 4 });
    const f = `${tmp.dir}/own-close.zip`;
    await writeZip(f, { v: "vvvv" });
    const z = new ZipStore(f, { pool });
    expect(decode(await z.get("/v"))).toBe("vvvv");
    await z.close();
    expect(pool.stats().evictions).toBe(0);
    expect(pool.stats().open).toBe(0);
  });
});
