import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore } from "../src/directory-store.js";
import { InvalidKeyError, NotWritableError, StoreError } from "../src/errors.js";
import type { AbsolutePath } from "../src/types.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { _crc32Js, ZipStore } from "../src/zip-store-node.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { storeConformance } from "./helpers/conformance.js";
import { python } from "./helpers/python.js";
import { CountingBlob, run, sameBytes, tempDirPerFile, writeZip } from "./helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-");
let n = 0;
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

storeConformance("ZipStore (file, mode w)", {
  make: () => new ZipStore(`${tmp.dir}/conf-${n++}.zip`, { mode: "w" }),
});
storeConformance("ZipStore (file, mode a on a missing file, deflate)", {
  make: () => new ZipStore(`${tmp.dir}/conf-a-${n++}.zip`, { mode: "a", compression: "deflate" }),
});
storeConformance("ZipStore (file, mode a on an existing empty zip)", {
  make: async () => {
    const file = `${tmp.dir}/conf-e-${n++}.zip`;
    await writeZip(file, {});
    return new ZipStore(file, { mode: "a" });
  },
});

describe("ZipStore reading", () => {
  it("reads only the central directory and the entries asked for, and a range reads only its bytes", async () => {
    const file = `${tmp.dir}/random-access.zip`;
    const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
    await writeZip(file, { "a/zarr.json": "{}", "a/c/0": big, "a/c/1": new Uint8Array(1 << 20).fill(7) });
    const blob = new CountingBlob([await readFile(file)]);
    const z = new BrowserZipStore(blob);
    expect(await z.getRange("/a/c/0", { offset: 1000, length: 10 })).toEqual(big.slice(1000, 1010));
    expect(await z.getRange("/a/c/0", { suffixLength: 5 })).toEqual(big.slice(-5));
    expect(decode(await z.get("/a/zarr.json"))).toBe("{}");
    expect(await z.get("/a/c/2")).toBeUndefined();
    // The tail (end records + central directory), two local headers, the ranges and one tiny entry.
    expect(blob.bytesRead).toBeLessThan(70_000 + 2 * 30 + 15 + 200);
    expect(blob.slices.some(([s, e]) => e - s >= 1 << 20)).toBe(false);
    // The central directory is parsed once: later reads are one slice each.
    const before = blob.slices.length;
    await z.get("/a/c/1");
    expect(blob.slices.length).toBe(before + 1);
  });

  it("decompresses deflated entries, for get and getRange", async () => {
    const file = `${tmp.dir}/deflate.zip`;
    const big = new Uint8Array(1 << 20).map((_, i) => i % 251);
    await writeZip(file, { "d/big": big, "d/empty": new Uint8Array(0) }, "deflate");
    expect((await stat(file)).size).toBeLessThan(big.length / 2);
    const z = new ZipStore(file);
    expect(sameBytes(await z.get("/d/big"), big)).toBe(true);
    expect(await z.getRange("/d/big", { offset: 7, length: 3 })).toEqual(big.slice(7, 10));
    expect(await z.get("/d/empty")).toEqual(new Uint8Array(0));
    await z.close();
  });

  it("reads from a Blob, a Uint8Array, an ArrayBuffer, a path and a file: URL alike", async () => {
    const file = `${tmp.dir}/sources.zip`;
    await writeZip(file, { "x/.zarray": "{}", "x/0": new Uint8Array([1, 2, 3]) });
    const bytes = new Uint8Array(await readFile(file));
    const stores = [
      new BrowserZipStore(new Blob([bytes])),
      new BrowserZipStore(bytes),
      new BrowserZipStore(bytes.slice().buffer),
      new ZipStore(new Blob([bytes])),
      new ZipStore(file),
      new ZipStore(pathToFileURL(file)),
      new ZipStore(pathToFileURL(file).href),
    ];
    for (const z of stores) {
      expect(await z.get("/x/0")).toEqual(new Uint8Array([1, 2, 3]));
      expect(await z.getRange("/x/0", { offset: 1, length: 1 })).toEqual(new Uint8Array([2]));
      expect(await listAll(z)).toEqual(["/x/.zarray", "/x/0"]);
      expect(await listAll(z, "/x")).toEqual(["/x/.zarray", "/x/0"]);
      expect(await listAll(z, "/y")).toEqual([]);
      await z.close();
    }
  });

  it("names its source and exposes path, url and mode", () => {
    const file = `${tmp.dir}/names.zip`;
    const z = new ZipStore(file, { mode: "a" });
    expect(String(z)).toBe(`ZipStore(${path.resolve(file)})`);
    expect([z.path, z.url, z.mode, z.compression]).toEqual([path.resolve(file), undefined, "a", "store"]);
    expect(new ZipStore(`${tmp.dir}/../x.zip`).path).toBe(path.resolve(tmp.dir, "../x.zip"));
    const u = new ZipStore("https://example.com/data.zip?token=secret");
    expect([u.url, u.path, u.mode]).toEqual(["https://example.com/data.zip?token=secret", undefined, "r"]);
    expect(String(u)).toBe("ZipStore(https://example.com/data.zip?…)");
    const b = new BrowserZipStore(new URL("http://localhost/a.zip"));
    expect([b.url, b.mode, String(b)]).toEqual([
      "http://localhost/a.zip",
      "r",
      "ZipStore(http://localhost/a.zip)",
    ]);
    expect(String(new BrowserZipStore(new Uint8Array(3)))).toBe("ZipStore(<3 bytes>)");
  });

  it("lists neither directory entries nor names that are not valid keys", async () => {
    const file = `${tmp.dir}/odd-names.zip`;
    await python(
      `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('dir/', b'')
    z.writestr('dir/a', b'1')
    z.writestr('../evil', b'2')
    z.writestr('x//y', b'3')
    z.writestr('dup', b'old')
    z.writestr('dup', b'new')`,
      file,
    );
    const z = new ZipStore(file);
    expect(await listAll(z)).toEqual(["/dir/a", "/dup"]);
    expect(decode(await z.get("/dup"))).toBe("new"); // the later entry wins, as in Python's zipfile
    await expect(z.get("/../evil" as AbsolutePath)).rejects.toThrow(InvalidKeyError);
    await z.close();
  });
});

describe("ZipStore writing", () => {
  it("refuses writes in mode r with NotWritableError, for files, bytes, Blobs and URLs", async () => {
    const file = `${tmp.dir}/ro.zip`;
    await writeZip(file, { a: "1" });
    const before = await readFile(file);
    for (const z of [
      new ZipStore(file),
      new ZipStore(file, { mode: "r" }),
      new BrowserZipStore(before),
      new ZipStore(new Blob([before])),
      new BrowserZipStore("http://127.0.0.1:9/x.zip"),
    ]) {
      await expect(z.set("/a", text("2"))).rejects.toThrow(NotWritableError);
      await expect(z.set("/a", text("2"))).rejects.toThrow(
        /ZipStore\(.*\): cannot set "\/a": the store is read-only/,
      );
      await expect(z.delete("/a")).rejects.toThrow(NotWritableError);
      await z.close();
    }
    expect(await readFile(file)).toEqual(before);
  });

  it("stores entries uncompressed by default and deflates on request", async () => {
    const value = new Uint8Array(4096).fill(1);
    await writeZip(`${tmp.dir}/stored.zip`, { c: value });
    await writeZip(`${tmp.dir}/deflated.zip`, { c: value }, "deflate");
    const methods = await python(
      `import sys, zipfile
print([zipfile.ZipFile(f).getinfo('c').compress_type for f in sys.argv[1:]])`,
      `${tmp.dir}/stored.zip`,
      `${tmp.dir}/deflated.zip`,
    );
    expect(methods.trim()).toBe("[0, 8]");
  });

  it("serves reads of values written in the same session, before close", async () => {
    for (const compression of ["store", "deflate"] as const) {
      const file = `${tmp.dir}/session-${compression}.zip`;
      await writeZip(file, { old: "kept" });
      const z = new ZipStore(file, { mode: "a", compression });
      const v = new Uint8Array(1000).map((_, i) => i & 255);
      await z.set("/new", v);
      expect(await z.get("/new")).toEqual(v);
      expect(await z.getRange("/new", { offset: 990, length: 20 })).toEqual(v.slice(990));
      expect(await z.getRange("/new", { suffixLength: 3 })).toEqual(v.slice(-3));
      expect(decode(await z.get("/old"))).toBe("kept");
      expect(await listAll(z)).toEqual(["/new", "/old"]);
      await z.close();
      expect(await new ZipStore(file).get("/new")).toEqual(v);
    }
  });

  it("appends in mode a: keeps entries, replaces rewritten keys, deletes, and unzip -t agrees", async () => {
    const file = `${tmp.dir}/append.zip`;
    await writeZip(file, { a: "1", b: "2" });
    const z = new ZipStore(file, { mode: "a" });
    await z.set("/b", text("two"));
    await z.set("/c", text("3"));
    await z.delete("/a");
    await z.close();
    const r = new ZipStore(file);
    expect(await listAll(r)).toEqual(["/b", "/c"]);
    expect(decode(await r.get("/b"))).toBe("two");
    await r.close();
    const { stdout } = await run("unzip", ["-t", file]);
    expect(stdout).toMatch(/No errors detected/);
  });

  it("mode w replaces an existing archive on close, even with nothing written", async () => {
    const file = `${tmp.dir}/replace.zip`;
    await writeZip(file, { old: "1" });
    const z = new ZipStore(file, { mode: "w" });
    expect(await z.get("/old")).toBeUndefined(); // a new archive: the old entries are not part of it
    expect(await listAll(z)).toEqual([]);
    await z.close();
    expect(await listAll(new ZipStore(file))).toEqual([]);
    const py = await python("import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).namelist())", file);
    expect(py.trim()).toBe("[]");
    await new ZipStore(`${tmp.dir}/fresh/sub/new.zip`, { mode: "w" }).close();
    expect((await stat(`${tmp.dir}/fresh/sub/new.zip`)).size).toBe(22);
  });

  it("mode a creates nothing when nothing is written, and deleting a missing key rewrites nothing", async () => {
    const missing = `${tmp.dir}/lazy/never.zip`;
    const z = new ZipStore(missing, { mode: "a" });
    expect(await z.get("/x")).toBeUndefined();
    await z.delete("/x");
    await z.close();
    await expect(stat(missing)).rejects.toThrow(/ENOENT/);
    const file = `${tmp.dir}/lazy2.zip`;
    await writeZip(file, { a: "1" });
    const mtime = (await stat(file)).mtimeMs;
    const y = new ZipStore(file, { mode: "a" });
    await y.delete("/nope");
    await y.close();
    expect((await stat(file)).mtimeMs).toBe(mtime);
    expect((await readdir(tmp.dir)).filter((f) => f.includes("lazy2") && f.endsWith(".tmp"))).toEqual([]);
  });

  it("lands every one of many concurrent sets, and a concurrently written zarrita array reads back", async () => {
    const file = `${tmp.dir}/concurrent.zip`;
    const z = new ZipStore(file, { mode: "w" });
    await Promise.all(Array.from({ length: 2000 }, (_, i) => z.set(`/raw/${i}`, text(`v${i}`))));
    const arr = await zarr.create(zarr.root(z).resolve("arr"), {
      shape: [64, 64],
      chunkShape: [4, 4],
      dtype: "int32",
    });
    await zarr.set(arr, null, {
      data: Int32Array.from({ length: 4096 }, (_, i) => i),
      shape: [64, 64],
      stride: [64, 1],
    });
    expect(((await readArray(z, "arr")).values as number[][])[63]?.[63]).toBe(4095); // before close
    await z.close();
    const r = new ZipStore(file);
    expect((await listAll(r, "/raw")).length).toBe(2000);
    expect((await listAll(r, "/arr")).length).toBe(257);
    const got = (await readArray(r, "arr")).values as number[][];
    expect(got.flat().every((v, i) => v === i)).toBe(true);
    expect(decode(await r.get("/raw/1999"))).toBe("v1999");
    await r.close();
    const { stdout } = await run("unzip", ["-t", file], { maxBuffer: 16 << 20 });
    expect(stdout).toMatch(/No errors detected/);
  });

  it("can be written again after close (the next session appends to what was closed)", async () => {
    const file = `${tmp.dir}/twice.zip`;
    const z = new ZipStore(file, { mode: "w" });
    await z.set("/a", text("1"));
    await z.close();
    await z.set("/b", text("2"));
    await z.close();
    expect(await listAll(new ZipStore(file))).toEqual(["/a", "/b"]);
  });

  it("computes the same CRC-32 with the fallback as with zlib", () => {
    for (const v of [new Uint8Array(0), text("123456789"), new Uint8Array(10_000).map((_, i) => i * 7)]) {
      expect(_crc32Js(v)).toBe(crc32(v) >>> 0);
    }
    expect(_crc32Js(text("123456789"))).toBe(0xcbf43926); // the standard check value
  });
});

describe("ZipStore crash safety", () => {
  it("leaves an existing archive untouched if the writing process dies before close", async () => {
    const dir = `${tmp.dir}/crash`;
    const file = `${dir}/data.zip`;
    await writeZip(file, { keep: "me" });
    const before = await readFile(file);
    for (const mode of ["w", "a"]) {
      const script = `
        import { ZipStore } from ${JSON.stringify(path.resolve("src/zip-store-node.ts"))};
        const z = new ZipStore(${JSON.stringify(file)}, { mode: ${JSON.stringify(mode)} });
        await Promise.all([z.set("/new", new Uint8Array(1 << 20)), z.set("/keep", new Uint8Array(9))]);
        process.exit(3); // dies before close()
      `;
      await writeFile(`${dir}/crash.mts`, script);
      const res = await run(process.execPath, ["--import", "tsx", `${dir}/crash.mts`]).catch(
        (e: { code: number }) => e,
      );
      expect((res as { code?: number }).code).toBe(3);
      expect(await readFile(file)).toEqual(before);
    }
    const r = new ZipStore(file);
    expect(await listAll(r)).toEqual(["/keep"]);
    expect(decode(await r.get("/keep"))).toBe("me");
    await r.close();
    // What a crash leaves is a stray temporary file, never a zip under the final name.
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp")).length).toBe(2);
  });

  it("keeps the previous archive until close, and discard() abandons a session", async () => {
    const file = `${tmp.dir}/discard.zip`;
    await writeZip(file, { keep: "me" });
    const before = await readFile(file);
    const z = new ZipStore(file, { mode: "w" });
    await z.set("/other", new Uint8Array(3));
    expect(await readFile(file)).toEqual(before);
    await z.discard();
    expect(await readFile(file)).toEqual(before);
    expect((await readdir(tmp.dir)).filter((f) => f.includes("discard.zip") && f.endsWith(".tmp"))).toEqual(
      [],
    );
  });
});

describe("ZipStore errors", () => {
  it("a file that is not a zip: StoreError naming the zip and the key", async () => {
    const file = `${tmp.dir}/not.zip`;
    await writeFile(file, "hello, I am not a zip file");
    const z = new ZipStore(file);
    await expect(z.get("/a/b")).rejects.toThrow(StoreError);
    await expect(z.get("/a/b")).rejects.toThrow(
      /^ZipStore\(.*not\.zip\): get "\/a\/b" failed: not a valid zip: end of central directory record not found$/,
    );
    await expect(z.getRange("/k", { offset: 0, length: 1 })).rejects.toThrow(
      /not\.zip\): getRange "\/k" failed: not a valid zip/,
    );
    await expect(listAll(z, "/p")).rejects.toThrow(/not\.zip\): list "\/p\/" failed: not a valid zip/);
    await expect(new ZipStore(file, { mode: "a" }).set("/s", text("1"))).rejects.toThrow(
      /not\.zip\): set "\/s" failed: not a valid zip/,
    );
    await expect(new BrowserZipStore(new Uint8Array(10)).get("/x")).rejects.toThrow(
      /ZipStore\(<10 bytes>\): get "\/x" failed: not a valid zip/,
    );
    await z.close();
  });

  it("a damaged entry: StoreError naming the key, while the other entries still read", async () => {
    const file = `${tmp.dir}/damaged.zip`;
    await writeZip(file, { good: "fine", bad: "broken" }, "store");
    const bytes = new Uint8Array(await readFile(file));
    // Find "bad"'s local header by its name and break its signature.
    const at = Buffer.from(bytes).indexOf("bad") - 30;
    expect(new DataView(bytes.buffer).getUint32(at, true)).toBe(0x04034b50);
    bytes[at] = 0;
    const z = new BrowserZipStore(bytes);
    await expect(z.get("/bad")).rejects.toThrow(/get "\/bad" failed: not a valid zip: bad local file header/);
    await expect(z.getRange("/bad", { offset: 0, length: 1 })).rejects.toThrow(/getRange "\/bad" failed/);
    expect(decode(await z.get("/good"))).toBe("fine");
  });

  it("a truncated archive or entry: StoreError, never short data", async () => {
    const file = `${tmp.dir}/trunc.zip`;
    await writeZip(file, { a: new Uint8Array(5000).fill(1) });
    const bytes = new Uint8Array(await readFile(file));
    await expect(new BrowserZipStore(bytes.subarray(0, 4000)).get("/a")).rejects.toThrow(/not a valid zip/);
    // Keep the end records but claim a bigger entry than the data there is.
    const cd = Buffer.from(bytes).lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    const v = new DataView(bytes.buffer);
    v.setUint32(cd + 20, 9_999_999, true);
    v.setUint32(cd + 24, 9_999_999, true);
    await expect(new BrowserZipStore(bytes).get("/a")).rejects.toThrow(
      /get "\/a" failed: not a valid zip: entry "a" \(9999999 bytes at 0\) lies beyond the archive's data/,
    );
    await expect(new BrowserZipStore(bytes).getRange("/a", { suffixLength: 10 })).rejects.toThrow(
      /lies beyond the archive's data/,
    );
  });

  it("a corrupt deflate stream: StoreError naming the key", async () => {
    const file = `${tmp.dir}/bad-deflate.zip`;
    await writeZip(file, { d: new Uint8Array(5000).map((_, i) => i % 13) }, "deflate");
    const bytes = new Uint8Array(await readFile(file));
    const data = 30 + 1; // the only entry: a 30-byte local header, the name "d", no extra field
    bytes.fill(0xff, data, data + 8);
    await writeFile(file, bytes);
    const z = new ZipStore(file);
    await expect(z.get("/d")).rejects.toThrow(/ZipStore\(.*bad-deflate\.zip\): get "\/d" failed/);
    await z.close();
    await expect(new BrowserZipStore(bytes).get("/d")).rejects.toThrow(/get "\/d" failed/);
  });

  it("a missing file in mode r: StoreError naming the file, the key and ENOENT", async () => {
    const z = new ZipStore(`${tmp.dir}/absent.zip`);
    await expect(z.get("/a")).rejects.toThrow(StoreError);
    await expect(z.get("/a")).rejects.toThrow(/absent\.zip\): get "\/a" failed: ENOENT/);
  });

  it("rejects bad options and sources with a clear TypeError", () => {
    expect(() => new ZipStore(new Uint8Array(0), { mode: "w" })).toThrow(/only zip files can be written/);
    expect(() => new ZipStore("https://example.com/a.zip", { mode: "a" })).toThrow(
      /only zip files can be written/,
    );
    expect(() => new ZipStore(`${tmp.dir}/x.zip`, { mode: "x" as "r" })).toThrow(/mode must be/);
    expect(() => new ZipStore(`${tmp.dir}/x.zip`, { compression: "zstd" as "store" })).toThrow(
      /compression must be/,
    );
    expect(() => new ZipStore("")).toThrow(/path is empty/);
    expect(() => new BrowserZipStore("data.zip")).toThrow(/files need shardedstore\/node/);
    expect(() => new BrowserZipStore(new URL("ftp://example.com/a.zip"))).toThrow(/only http\(s\) URLs/);
    expect(() => new BrowserZipStore(42 as unknown as Uint8Array)).toThrow(/cannot read from 42/);
  });

  it("rejects invalid keys on every operation before touching the archive", async () => {
    const z = new ZipStore(`${tmp.dir}/keys.zip`, { mode: "w" });
    for (const bad of ["/a/../b", "no-slash", "/a//b", "/"]) {
      await expect(z.get(bad as AbsolutePath)).rejects.toThrow(InvalidKeyError);
      await expect(z.getRange(bad as AbsolutePath, { offset: 0, length: 1 })).rejects.toThrow(
        InvalidKeyError,
      );
      await expect(z.set(bad as AbsolutePath, text("x"))).rejects.toThrow(InvalidKeyError);
      await expect(z.delete(bad as AbsolutePath)).rejects.toThrow(InvalidKeyError);
    }
    await z.discard();
  });
});

describe("ZipStore values", () => {
  it("returns values that own their buffer, so zarrita decodes strings on the first read", async () => {
    const { mkdtemp } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const d = await mkdtemp(`${tmpdir()}/ss-zipview-`);
    const src = new DirectoryStore(
      new URL("./fixtures/python-seed/slash/single.zarr", import.meta.url).pathname,
    );
    const w = new ZipStore(`${d}/s.zip`, { mode: "w" });
    for (const k of await listAll(src)) await w.set(k as AbsolutePath, (await src.get(k as AbsolutePath))!);
    await w.close();
    const r = new ZipStore(`${d}/s.zip`);
    const v = await r.get("/people/0");
    expect(v?.byteOffset).toBe(0);
    expect(v?.byteLength).toBe(v?.buffer.byteLength);
    expect((await readArray(r, "people")).values).toEqual(["alice", "bob"]);
  });
});
