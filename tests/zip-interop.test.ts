import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore } from "../src/directory-store.js";
import type { AbsolutePath } from "../src/types.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";
import { run, tempDirPerFile } from "./helpers/zip-fixtures.js";

const SEED = new URL("./fixtures/python-seed/", import.meta.url).pathname;
const tmp = tempDirPerFile("ss-zip-interop-");

async function zarritaZipFileStore(file: string) {
  const { default: ZipFileStore } = await import("@zarrita/storage/zip");
  return ZipFileStore.fromBlob(new Blob([await readFile(file)]));
}

describe("ZipStore interoperability", () => {
  it("has zarr-python to check against (Debian python3-zarr at /usr/bin/python3)", async () => {
    // A failure here, not a skip: every interop check below needs it.
    const version = await python("import zarr; print(zarr.__version__)").catch((e: Error) => {
      throw new Error(`zarr-python is required for the zip interop tests: ${e.message}`);
    });
    expect(version.trim()).toMatch(/^2\./);
  });

  it("writes zips that unzip -t, zarr-python's ZipStore and zarrita's ZipFileStore read", async () => {
    const file = `${tmp.dir}/interop.zarr.zip`;
    const single = new DirectoryStore(`${SEED}slash/single.zarr`);
    const z = new ZipStore(file, { mode: "w" });
    const keys = await listAll(single);
    await Promise.all(
      keys.map(async (k) => z.set(k as AbsolutePath, (await single.get(k as AbsolutePath))!)),
    );
    await z.close();
    const { stdout } = await run("unzip", ["-t", file]);
    expect(stdout).toMatch(/No errors detected/);
    const py = await python(
      `import sys, zarr
s = zarr.ZipStore(sys.argv[1], mode='r')
g = zarr.open_group(s, mode='r')
print(g['simulation/fine/foo'][...].sum().round(6), g['people'][...].tolist(), len(list(s.keys())))`,
      file,
    );
    const values = JSON.parse(readFileSync(`${SEED}slash/values.json`, "utf8"));
    const sum = (values["simulation/fine/foo"].values as number[][][]).flat(2).reduce((a, b) => a + b, 0);
    const [pySum, , pyCount] = [py.trim().split(" ")[0], null, py.trim().split(" ").at(-1)];
    expect(Number(pySum)).toBeCloseTo(sum, 5);
    expect(py).toContain("['alice', 'bob']");
    expect(Number(pyCount)).toBe(keys.length);
    const theirs = await zarritaZipFileStore(file);
    for (const name of ["observations/stations/temperature", "simulation/coarse/foo"]) {
      const want = await readArray(single, name);
      expect(await readArray(theirs, name)).toEqual(want);
      expect(await readArray(new ZipStore(file), name)).toEqual(want);
    }
  });

  it("reads zips written by zarr-python's ZipStore, stored and deflated", async () => {
    for (const compression of ["ZIP_STORED", "ZIP_DEFLATED"]) {
      const file = `${tmp.dir}/from-python-${compression}.zip`;
      await python(
        `import sys, zarr, zipfile, numpy as np
s = zarr.ZipStore(sys.argv[1], mode='w', compression=zipfile.${compression})
g = zarr.group(store=s)
g.create_dataset('a/b', data=np.arange(60, dtype='f4').reshape(3, 4, 5), chunks=(1, 2, 5))
g.create_dataset('s', data=np.array(['x', 'yy', 'zzz']), dtype=str)
g['a'].attrs['units'] = 'K'
s.close()`,
        file,
      );
      const z = new ZipStore(file);
      expect(await listAll(z, "/a/b")).toContain("/a/b/2.1.0");
      const got = await readArray(z, "a/b");
      expect(got.shape).toEqual([3, 4, 5]);
      expect((got.values as number[][][])[2]?.[3]?.[4]).toBe(59);
      expect(JSON.parse(new TextDecoder().decode(await z.get("/a/.zattrs")))).toEqual({ units: "K" });
      await z.close();
    }
  });

  it("appends to a zarr-python zip, and zarr-python reads the old and the new data", async () => {
    const file = `${tmp.dir}/append-python.zip`;
    await python(
      `import sys, zarr, numpy as np
s = zarr.ZipStore(sys.argv[1], mode='w')
zarr.group(store=s).create_dataset('old', data=np.arange(6, dtype='<i4'), chunks=(3,))
s.close()`,
      file,
    );
    // zarrita writes Zarr v3 only, so the v2 array zarr-python can read is written key by key.
    const z = new ZipStore(file, { mode: "a" });
    const meta = {
      zarr_format: 2,
      shape: [4],
      chunks: [2],
      dtype: "<i4",
      compressor: null,
      fill_value: 0,
      filters: null,
      order: "C",
    };
    await z.set("/new/.zarray", new TextEncoder().encode(JSON.stringify(meta)));
    await Promise.all([
      z.set("/new/0", new Uint8Array(Int32Array.from([10, 20]).buffer)),
      z.set("/new/1", new Uint8Array(Int32Array.from([30, 40]).buffer)),
    ]);
    await z.close();
    const py = await python(
      `import sys, zarr
g = zarr.open_group(zarr.ZipStore(sys.argv[1], mode='r'), mode='r')
print(g['old'][...].tolist(), g['new'][...].tolist())`,
      file,
    );
    expect(py.trim()).toBe("[0, 1, 2, 3, 4, 5] [10, 20, 30, 40]");
    expect((await readArray(new ZipStore(file), "new")).values).toEqual([10, 20, 30, 40]);
    const { stdout } = await run("unzip", ["-t", file]);
    expect(stdout).toMatch(/No errors detected/);
  });

  it("a zarrita array written through our ZipStore reads back in zarrita's ZipFileStore", async () => {
    const file = `${tmp.dir}/zarrita.zip`;
    const z = new ZipStore(file, { mode: "w" });
    const root = await zarr.create(zarr.root(z), { attributes: { made: "by zarrita" } });
    const arr = await zarr.create(root.resolve("grid"), {
      shape: [6, 10],
      chunkShape: [2, 5],
      dtype: "float32",
    });
    const data = Float32Array.from({ length: 60 }, (_, i) => i / 4);
    await zarr.set(arr, null, { data, shape: [6, 10], stride: [10, 1] });
    await z.close();
    for (const store of [new ZipStore(file), await zarritaZipFileStore(file)]) {
      const back = await zarr.open.v3(zarr.root(store).resolve("grid"), { kind: "array" });
      const got = await zarr.get(back);
      expect(Array.from(got.data as Float32Array)).toEqual(Array.from(data));
      const g = await zarr.open.v3(zarr.root(store), { kind: "group" });
      expect(g.attrs).toEqual({ made: "by zarrita" });
    }
  });
});
