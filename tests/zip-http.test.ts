import { mkdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { StoreError } from "../src/errors.js";
import { FetchStore } from "../src/fetch-store.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { type StaticServer, startPythonHttpServer, startStaticServer } from "./helpers/http-server.js";
import { python } from "./helpers/python.js";
import { sameBytes, tempDirPerFile, writeZip } from "./helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-http-");
let server: StaticServer;
let failNext = 0;
const big = new Uint8Array(2 << 20).map((_, i) => i % 253);

beforeAll(async () => {
  await mkdir(`${tmp.dir}/www`);
  await writeZip(`${tmp.dir}/www/data.zip`, { "a/zarr.json": "{}", "a/c/0": big, "a/c/1": "tiny" });
  await python(
    `import sys, zarr, zipfile, numpy as np
s = zarr.ZipStore(sys.argv[1], mode='w', compression=zipfile.ZIP_DEFLATED)
zarr.group(store=s).create_dataset('t', data=np.arange(24, dtype='<i4').reshape(4, 6), chunks=(2, 3))
s.close()`,
    `${tmp.dir}/www/py.zip`,
  );
  server = await startStaticServer(`${tmp.dir}/www`, {
    fail: () => {
      if (failNext === 0) return undefined;
      failNext--;
      return 503;
    },
  });
});
afterAll(async () => {
  await server.close();
});

const ranges = () =>
  server.requests.map((r) => {
    const m = /bytes=(\d*)-(\d*)/.exec(r.range ?? "");
    return m ? [m[1], m[2]] : null;
  });

describe("ZipStore over HTTP range requests", () => {
  it("reads with range requests only: one suffix request for the directory, then one per value", async () => {
    server.requests.length = 0;
    const z = new BrowserZipStore(`${server.url}/data.zip`);
    expect(new TextDecoder().decode(await z.get("/a/c/1"))).toBe("tiny");
    expect(ranges()[0]).toEqual(["", String(22 + 0xffff + 20)]); // the end records and the size at once
    expect(server.requests.length).toBe(2);
    server.requests.length = 0;
    expect(await z.getRange("/a/c/0", { offset: 5, length: 4 })).toEqual(big.slice(5, 9));
    expect(await z.getRange("/a/c/0", { offset: 100, length: 4 })).toEqual(big.slice(100, 104));
    // The first range also reads the local header (30 bytes) to learn where the data starts; then one exact request.
    expect(server.requests.length).toBe(3);
    const last = ranges().at(-1)!;
    expect(Number(last[1]) - Number(last[0]) + 1).toBe(4);
    expect(await z.get("/missing")).toBeUndefined();
    expect(server.requests.length).toBe(3);
    expect(await listAll(z)).toEqual(["/a/c/0", "/a/c/1", "/a/zarr.json"]);
    expect(server.requests.every((r) => r.range !== undefined)).toBe(true);
  });

  it("reads a zarr-python zip with zarrita, from the isomorphic and the Node ZipStore", async () => {
    for (const z of [
      new BrowserZipStore(new URL(`${server.url}/py.zip`)),
      new ZipStore(`${server.url}/py.zip`),
    ]) {
      const arr = await zarr.open.v2(zarr.root(z).resolve("t"), { kind: "array" });
      const got = await zarr.get(arr, [zarr.slice(1, 3), zarr.slice(2, 5)]);
      expect(Array.from(got.data as Int32Array)).toEqual([8, 9, 10, 14, 15, 16]);
      expect((await readArray(z, "t")).shape).toEqual([4, 6]);
    }
  });

  it("retries a transient 503, and names the URL and the key when the server keeps failing", async () => {
    const z = new BrowserZipStore(`${server.url}/data.zip`);
    failNext = 1;
    server.requests.length = 0;
    expect(new TextDecoder().decode(await z.get("/a/c/1"))).toBe("tiny");
    expect(server.requests.length).toBe(3); // the failed tail, the tail again, the value
    const once = new BrowserZipStore(`${server.url}/data.zip`, { retries: 0 });
    failNext = 1;
    await expect(once.get("/a/c/1")).rejects.toThrow(StoreError);
    failNext = 1;
    await expect(once.get("/a/c/1")).rejects.toThrow(
      /^ZipStore\(http:\/\/127\.0\.0\.1:\d+\/data\.zip\): get "\/a\/c\/1" failed: HTTP 503 .*for bytes=-.*gave up after 1 attempt$/,
    );
    expect(new TextDecoder().decode(await once.get("/a/c/1"))).toBe("tiny");
    await expect(new BrowserZipStore(`${server.url}/nope.zip`).get("/k")).rejects.toThrow(
      /nope\.zip\): get "\/k" failed: HTTP 404/,
    );
  });

  it("uses the whole body of a server that ignores Range, downloaded once; hides query strings", async () => {
    const plain = await startStaticServer(`${tmp.dir}/www`, { ranges: false });
    try {
      const z = new BrowserZipStore(`${plain.url}/data.zip?sig=secret`);
      expect(new TextDecoder().decode(await z.get("/a/c/1"))).toBe("tiny");
      expect(sameBytes(await z.get("/a/c/0"), big)).toBe(true); // toEqual on 2 MiB is slow
      expect(await z.getRange("/a/c/0", { offset: 7, length: 3 })).toEqual(big.slice(7, 10));
      expect(plain.requests.length).toBe(1);
      const small = new BrowserZipStore(`${plain.url}/data.zip?sig=secret`, { fullBodyLimit: 1000 });
      const err = await small.get("/a/c/1").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(String(err)).toMatch(/the server ignored Range .*1000-byte fullBodyLimit/);
      expect(String(err)).not.toMatch(/secret/);
    } finally {
      await plain.close();
    }
  });

  it("passes an abort through as the abort itself", async () => {
    const z = new BrowserZipStore(`${server.url}/data.zip`);
    const ac = new AbortController();
    ac.abort();
    const err = await z.get("/a/c/1", { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(StoreError);
    expect((err as Error).name).toBe("AbortError");
  });

  it("reads a zip written by our Node ZipStore from python3 -m http.server (no Range), downloading it once", async () => {
    await mkdir(`${tmp.dir}/py-www`);
    const file = `${tmp.dir}/py-www/arr.zarr.zip`;
    const zw = new ZipStore(file, { mode: "w" });
    const arr = await zarr.create(zarr.root(zw).resolve("t"), {
      shape: [6, 4],
      chunkShape: [2, 2],
      dtype: "int32",
    });
    await zarr.set(arr, null, {
      data: Int32Array.from({ length: 24 }, (_, i) => i * 3),
      shape: [6, 4],
      stride: [4, 1],
    });
    await zw.close();
    const py = await startPythonHttpServer(`${tmp.dir}/py-www`);
    try {
      for (const z of [
        new BrowserZipStore(`${py.url}/arr.zarr.zip`),
        new ZipStore(`${py.url}/arr.zarr.zip`),
      ]) {
        py.log.length = 0;
        const a = await zarr.open.v3(zarr.root(z).resolve("t"), { kind: "array" });
        const got = await zarr.get(a);
        expect(Array.from(got.data as Int32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i * 3));
        expect((await py.settledLog(1)).length).toBe(1); // one full download, every later read sliced from it
        expect(py.log[0]).toMatch(/"GET \/arr\.zarr\.zip HTTP\/1\.[01]" 200/);
      }
      // FetchStore over the same server: one download per key, then ranges are sliced locally.
      const f = new FetchStore(py.url);
      py.log.length = 0;
      const whole = new Uint8Array(await readFile(file));
      expect(await f.getRange("/arr.zarr.zip", { suffixLength: 22 })).toEqual(whole.slice(-22));
      expect(await f.getRange("/arr.zarr.zip", { offset: 3, length: 9 })).toEqual(whole.slice(3, 12));
      expect((await py.settledLog(1)).length).toBe(1);
    } finally {
      await py.close();
    }
  });
});
