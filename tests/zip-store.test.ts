import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore } from "../src/directory-store.js";
import { NotWritableError, StoreError } from "../src/errors.js";
import type { AbsolutePath } from "../src/types.js";
import {
  centralDirectory,
  findCentralDirectory,
  parseCentralDirectory,
  parseZip64End,
  type ZipEntry,
} from "../src/zip-format.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { storeConformance } from "./helpers/conformance.js";
import { startStaticServer } from "./helpers/http-server.js";
import { python } from "./helpers/python.js";

const run = promisify(execFile);
const SEED = new URL("./fixtures/python-seed/", import.meta.url).pathname;
let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-zip-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

storeConformance("ZipStore (file, mode w)", {
  make: () => new ZipStore(`${dir}/conf-${n++}.zip`, { mode: "w" }),
});
storeConformance("ZipStore (file, mode a on a missing file, deflate)", {
  make: () => new ZipStore(`${dir}/conf-a-${n++}.zip`, { mode: "a", compression: "deflate" }),
});

async function writeZip(
  file: string,
  entries: Record<string, string | Uint8Array>,
  compression: "store" | "deflate" = "store",
) {
  const z = new ZipStore(file, { mode: "w", compression });
  for (const [k, v] of Object.entries(entries))
    await z.set(`/${k}`, typeof v === "string" ? new TextEncoder().encode(v) : v);
  await z.close();
}

describe("ZipStore", () => {
  it("writes zips that unzip -t, zarr-python and zarrita's ZipFileStore read", async () => {
    const file = `${dir}/interop.zarr.zip`;
    const single = new DirectoryStore(`${SEED}slash/single.zarr`);
    const z = new ZipStore(file, { mode: "w" });
    for (const k of await listAll(single))
      await z.set(k as AbsolutePath, (await single.get(k as AbsolutePath))!);
    await z.close();
    const { stdout } = await run("unzip", ["-t", file]);
    expect(stdout).toMatch(/No errors detected/);
    const py = await python(
      `import sys, zarr
g = zarr.open_group(zarr.ZipStore(sys.argv[1], mode='r'), mode='r')
print(g['simulation/fine/foo'][...].sum().round(6), g['people'][...].tolist())`,
      file,
    );
    const values = JSON.parse(readFileSync(`${SEED}slash/values.json`, "utf8"));
    const sum = (values["simulation/fine/foo"].values as number[][][]).flat(2).reduce((a, b) => a + b, 0);
    expect(Number(py.trim().split(" ")[0])).toBeCloseTo(sum, 5);
    expect(py).toContain("['alice', 'bob']");
    const { default: ZipFileStore } = await import("@zarrita/storage/zip");
    const theirs = ZipFileStore.fromBlob(new Blob([await readFile(file)]));
    expect(await readArray(theirs, "observations/stations/temperature")).toEqual(
      await readArray(single, "observations/stations/temperature"),
    );
    expect(await readArray(new ZipStore(file), "simulation/coarse/foo")).toEqual(
      await readArray(single, "simulation/coarse/foo"),
    );
  });

  it("reads zips written by zarr-python, deflated entries included", async () => {
    const file = `${dir}/from-python.zip`;
    await python(
      `import sys, zarr, zipfile, numpy as np
s = zarr.ZipStore(sys.argv[1], mode='w', compression=zipfile.ZIP_DEFLATED)
g = zarr.group(store=s)
g.create_dataset('a/b', data=np.arange(60, dtype='f4').reshape(3, 4, 5), chunks=(1, 2, 5))
g['a'].attrs['units'] = 'K'
s.close()`,
      file,
    );
    const z = new ZipStore(file);
    expect(await listAll(z)).toContain("/a/b/2.1.0");
    const got = await readArray(z, "a/b");
    expect(got.shape).toEqual([3, 4, 5]);
    expect((got.values as number[][][])[2]?.[3]?.[4]).toBe(59);
    expect(JSON.parse(new TextDecoder().decode(await z.get("/a/.zattrs")))).toEqual({ units: "K" });
    await expect(z.set("/x", new Uint8Array(1))).rejects.toThrow(NotWritableError);
  });

  it("reads a range of a stored entry without reading the rest, and decompresses deflated ones", async () => {
    const file = `${dir}/ranges.zip`;
    const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
    await writeZip(file, { "stored/big": big });
    await writeZip(`${dir}/ranges-deflate.zip`, { "d/big": big }, "deflate");
    const z = new ZipStore(file);
    expect(await z.getRange("/stored/big", { offset: 1000, length: 10 })).toEqual(big.slice(1000, 1010));
    expect(await z.getRange("/stored/big", { suffixLength: 5 })).toEqual(big.slice(-5));
    const d = new ZipStore(`${dir}/ranges-deflate.zip`);
    expect((await stat(`${dir}/ranges-deflate.zip`)).size).toBeLessThan(big.length / 2);
    expect(await d.get("/d/big")).toEqual(big);
    expect(await d.getRange("/d/big", { offset: 7, length: 3 })).toEqual(big.slice(7, 10));
  });

  it("reads over HTTP with range requests only, never the whole archive", async () => {
    const file = `${dir}/http/data.zip`;
    const big = new Uint8Array(2 << 20).fill(3);
    await writeZip(file, { "a/zarr.json": "{}", "a/c/0": big, "a/c/1": "tiny" });
    const server = await startStaticServer(`${dir}/http`);
    try {
      const z = new BrowserZipStore(`${server.url}/data.zip`);
      expect(new TextDecoder().decode(await z.get("/a/c/1"))).toBe("tiny");
      expect(await z.getRange("/a/c/0", { offset: 5, length: 4 })).toEqual(new Uint8Array(4).fill(3));
      expect(await z.get("/missing")).toBeUndefined();
      const ranged = server.requests.filter((r) => r.headers.range);
      expect(ranged.length).toBe(server.requests.length);
      const total = ranged.reduce((a, r) => {
        const m = /bytes=(\d+)-(\d+)/.exec(String(r.headers.range));
        return a + (m ? Number(m[2]) - Number(m[1]) + 1 : 0);
      }, 0);
      expect(total).toBeLessThan(200_000);
    } finally {
      await server.close();
    }
  });

  it("reads from a Blob and from bytes", async () => {
    const file = `${dir}/blob.zip`;
    await writeZip(file, { "x/.zarray": "{}", "x/0": new Uint8Array([1, 2, 3]) });
    const bytes = new Uint8Array(await readFile(file));
    for (const z of [
      new BrowserZipStore(new Blob([bytes])),
      new BrowserZipStore(bytes),
      new BrowserZipStore(bytes.buffer),
    ]) {
      expect(await z.get("/x/0")).toEqual(new Uint8Array([1, 2, 3]));
      expect(await listAll(z)).toEqual(["/x/.zarray", "/x/0"]);
    }
  });

  it("appends to an existing zip (mode a), keeping its entries and replacing rewritten keys", async () => {
    const file = `${dir}/append.zip`;
    await writeZip(file, { a: "1", b: "2" });
    const z = new ZipStore(file, { mode: "a" });
    await z.set("/b", new TextEncoder().encode("two"));
    await z.set("/c", new TextEncoder().encode("3"));
    await z.delete("/a");
    await z.close();
    const r = new ZipStore(file);
    expect(await listAll(r)).toEqual(["/b", "/c"]);
    expect(new TextDecoder().decode(await r.get("/b"))).toBe("two");
    const { stdout } = await run("unzip", ["-t", file]);
    expect(stdout).toMatch(/No errors detected/);
  });

  it("leaves the previous archive untouched until close, and after a crash", async () => {
    const file = `${dir}/crash/data.zip`;
    await writeZip(file, { keep: "me" });
    const before = await readFile(file);
    const script = `
      import { ZipStore } from ${JSON.stringify(path.resolve("src/zip-store-node.ts"))};
      const z = new ZipStore(${JSON.stringify(file)}, { mode: "w" });
      await z.set("/new", new Uint8Array(1 << 20));
      process.exit(3); // dies before close()
    `;
    await writeFile(`${dir}/crash.mts`, script);
    const res = await run(process.execPath, ["--import", "tsx", `${dir}/crash.mts`]).catch(
      (e: { code: number }) => e,
    );
    expect((res as { code?: number }).code).toBe(3);
    expect(await readFile(file)).toEqual(before);
    expect(await listAll(new ZipStore(file))).toEqual(["/keep"]);
    // A writer that is abandoned leaves nothing behind either.
    const z = new ZipStore(file, { mode: "w" });
    await z.set("/other", new Uint8Array(3));
    expect(await readFile(file)).toEqual(before);
    await z.discard();
    expect(await readFile(file)).toEqual(before);
    expect((await readdir(`${dir}/crash`)).filter((f) => f.endsWith(".tmp")).length).toBe(1); // the crashed child's
  });

  it("lands every one of many concurrent sets (as zarrita writes chunks)", async () => {
    const file = `${dir}/concurrent.zip`;
    const z = new ZipStore(file, { mode: "w" });
    const arr = await zarr.create(z, { shape: [64, 64], chunkShape: [4, 4], dtype: "int32" });
    await zarr.set(arr, null, {
      data: Int32Array.from({ length: 4096 }, (_, i) => i),
      shape: [64, 64],
      stride: [64, 1],
    } as never);
    await z.close();
    const r = new ZipStore(file);
    expect((await listAll(r)).length).toBe(257);
    const got = (await readArray(r, "")).values as number[][];
    expect(got[63]?.[63]).toBe(4095);
    expect(got.flat().every((v, i) => v === i)).toBe(true);
  });

  it("writes and reads more than 65,535 entries (ZIP64), and unzip agrees", async () => {
    const file = `${dir}/many.zip`;
    const z = new ZipStore(file, { mode: "w" });
    const count = 70_000;
    for (let i = 0; i < count; i += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, j) => z.set(`/c/${i + j}`, new Uint8Array([(i + j) & 255]))),
      );
    }
    await z.close();
    const r = new ZipStore(file);
    expect(await r.get("/c/69999")).toEqual(new Uint8Array([69999 & 255]));
    expect((await listAll(r)).length).toBe(count);
    const { stdout } = await run("unzip", ["-l", file], { maxBuffer: 64 << 20 });
    expect(stdout.trim().split("\n").at(-1)).toMatch(/70000 files/);
    const py = await python("import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))", file);
    expect(py.trim()).toBe("70000");
  });

  it("encodes sizes and offsets beyond 4 GiB in ZIP64 records and reads them back", () => {
    const entries: ZipEntry[] = [
      { name: "small", method: 0, crc32: 1, compressedSize: 10, size: 10, headerOffset: 0 },
      {
        name: "huge",
        method: 0,
        crc32: 2,
        compressedSize: 5 * 2 ** 30,
        size: 5 * 2 ** 30,
        headerOffset: 100,
      },
      { name: "after", method: 8, crc32: 3, compressedSize: 7, size: 9, headerOffset: 5 * 2 ** 30 + 200 },
    ];
    const cdOffset = 5 * 2 ** 30 + 300;
    const tail = centralDirectory(entries, cdOffset);
    const fileSize = cdOffset + tail.length;
    const loc = findCentralDirectory(tail, fileSize, "t");
    expect("zip64Offset" in loc).toBe(true);
    const at = (loc as { zip64Offset: number }).zip64Offset - cdOffset;
    const end = parseZip64End(tail.subarray(at, at + 56), "t");
    expect(end).toEqual({ entries: 3, offset: cdOffset, size: at });
    expect(parseCentralDirectory(tail.subarray(0, end.size), 3, "t")).toEqual(entries);
  });

  it("rejects a file that is not a zip with an error naming it, and a missing file in mode r", async () => {
    await writeFile(`${dir}/not.zip`, "hello, I am not a zip file");
    await expect(new ZipStore(`${dir}/not.zip`).get("/a")).rejects.toThrow(
      /ZipStore\(.*not\.zip\).*not a valid zip/,
    );
    await expect(new ZipStore(`${dir}/absent.zip`).get("/a")).rejects.toThrow(StoreError);
    await expect(new ZipStore(`${dir}/absent.zip`).get("/a")).rejects.toThrow(/absent\.zip.*ENOENT/);
    expect(() => new ZipStore(new Uint8Array(0), { mode: "w" })).toThrow(/only zip files can be written/);
    expect(() => new ZipStore(`${dir}/x.zip`, { mode: "x" as "r" })).toThrow(/mode must be/);
  });
});
