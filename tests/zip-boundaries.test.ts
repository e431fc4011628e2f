// The zip format's edges, kept quick enough to run under mutation testing: the 16-bit entry count,
// archives with no entries, end records at the very start of a file, the DOS date and Unix mode
// strict tools show, and non-ASCII names — checked against Python's zipfile (testzip) and unzip -t,
// on archives assembled in memory from the format functions themselves.
import { writeFile } from "node:fs/promises";
import { crc32, deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isShardedStoreError } from "../src/errors.js";
import type { AbsolutePath } from "../src/types.js";
import {
  centralDirectory,
  findCentralDirectory,
  LOCAL_HEADER_SIZE,
  localDataStart,
  localHeader,
  type ZipEntry,
} from "../src/zip-format.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";
import { readDirectory } from "./helpers/zip-craft.js";
import { run, tempDirPerFile } from "./helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-boundaries-");
const text = (s: string) => new TextEncoder().encode(s);
const _decode = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** Assembles an archive from the format functions: local header + data per entry, then the directory. */
function assemble(
  files: Array<{ name: string; data: Uint8Array; method?: 0 | 8 }>,
  when = new Date(),
  comment?: Uint8Array,
): Uint8Array {
  const parts: Uint8Array[] = [];
  const entries: ZipEntry[] = [];
  let at = 0;
  for (const f of files) {
    const method = f.method ?? 0;
    const stored = method === 8 ? new Uint8Array(deflateRawSync(f.data)) : f.data;
    const e: ZipEntry = {
      name: f.name,
      method,
      crc32: crc32(f.data) >>> 0,
      compressedSize: stored.length,
      size: f.data.length,
      headerOffset: at,
    };
    const header = localHeader(e, when);
    parts.push(header, stored);
    at += header.length + stored.length;
    entries.push(e);
  }
  parts.push(centralDirectory(entries, at, when, comment));
  return Buffer.concat(parts);
}

/** Python's strict view: testzip passes, and each entry's name, method, date, mode and system. */
async function pythonInfo(file: string): Promise<{
  bad: string | null;
  entries: Array<{
    name: string;
    method: number;
    date: number[];
    mode: number;
    system: number;
    data: string;
  }>;
}> {
  const out = await python(
    `import sys, zipfile, json
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps({"bad": z.testzip(), "entries": [{"name": i.filename, "method": i.compress_type, "date": list(i.date_time), "mode": i.external_attr >> 16, "system": i.create_system, "data": z.read(i).decode("utf-8")} for i in z.infolist()]}))`,
    file,
  );
  return JSON.parse(out);
}

describe("archives at the smallest", () => {
  it("an archive with no entries (the 22-byte end record alone) reads as empty, as Python writes it", async () => {
    const file = `${tmp.dir}/empty.zip`;
    await python("import sys, zipfile\nzipfile.ZipFile(sys.argv[1], 'w').close()", file);
    for (const z of [new ZipStore(file), new BrowserZipStore(centralDirectory([], 0))]) {
      expect(await listAll(z)).toEqual([]);
      expect(await z.get("/a")).toBeUndefined();
      await z.close();
    }
  });

  it("an end record at the start of the file claiming 65,535 entries: a StoreError, never a RangeError", async () => {
    const end = centralDirectory([], 0);
    new DataView(end.buffer).setUint16(8, 0xffff, true);
    new DataView(end.buffer).setUint16(10, 0xffff, true);
    for (const bytes of [end, Buffer.concat([new Uint8Array(10), end])]) {
      const err = await new BrowserZipStore(bytes).get("/a").catch((e: unknown) => e);
      expect(isShardedStoreError(err, "StoreError")).toBe(true);
      expect((err as Error).message).toMatch(/65535 entries cannot fit a central directory of 0 bytes/);
    }
  });

  it("end records longer than the file they are said to end: a StoreError", () => {
    let err: unknown;
    try {
      findCentralDirectory(new Uint8Array(40), 30, "ZipStore(x.zip)");
    } catch (e) {
      err = e;
    }
    expect(isShardedStoreError(err, "StoreError")).toBe(true);
    expect((err as Error).message).toMatch(/^ZipStore\(x\.zip\).*the end records are longer than the file/);
  });

  it("a local header shorter than 30 bytes or without its signature: a StoreError", () => {
    const header = localHeader({
      name: "a",
      method: 0,
      crc32: 0,
      compressedSize: 0,
      size: 0,
      headerOffset: 0,
    });
    expect(localDataStart(header, "t")).toBe(LOCAL_HEADER_SIZE + 1);
    for (const bad of [header.subarray(0, 29), Buffer.concat([new Uint8Array([0]), header])]) {
      expect(() => localDataStart(bad, "ZipStore(t)")).toThrow(/not a valid zip: bad local file header/);
    }
  });
});

describe("what strict tools read from our headers", () => {
  it("Python's testzip and unzip -t pass on stored and deflated entries; methods, names and data agree", async () => {
    const when = new Date(2024, 4, 17, 13, 45, 31);
    const file = `${tmp.dir}/strict.zip`;
    await writeFile(
      file,
      assemble(
        [
          { name: "a/zarr.json", data: text("{}") },
          { name: "a/c/0", data: text("x".repeat(3000)), method: 8 },
          { name: "données/é", data: text("accents"), method: 8 },
        ],
        when,
      ),
    );
    const { stdout } = await run("unzip", ["-t", file]);
    expect(stdout).toMatch(/No errors detected/);
    const info = await pythonInfo(file);
    expect(info.bad).toBeNull();
    expect(info.entries.map((e) => [e.name, e.method, e.data.length])).toEqual([
      ["a/zarr.json", 0, 2],
      ["a/c/0", 8, 3000],
      ["données/é", 8, 7],
    ]);
    // The DOS date and time (two-second steps), a regular rw-r--r-- file made on Unix.
    for (const e of info.entries) {
      expect(e.date).toEqual([2024, 5, 17, 13, 45, 30]);
      expect(e.mode).toBe(0o100644);
      expect(e.system).toBe(3);
    }
  });

  it("a write time before 1980 (the DOS epoch) is written as 1980-01-01", async () => {
    const file = `${tmp.dir}/epoch.zip`;
    await writeFile(file, assemble([{ name: "a", data: text("old") }], new Date(1975, 6, 4, 0, 0, 0)));
    const info = await pythonInfo(file);
    expect(info.bad).toBeNull();
    expect(info.entries[0]!.date.slice(0, 1)).toEqual([1980]);
  });

  it("an archive written by our ZipStore carries the time of writing, to the two-second step", async () => {
    const file = `${tmp.dir}/now.zip`;
    const before = Date.now();
    const z = new ZipStore(file, { mode: "w", compression: "deflate" });
    await z.set("/k" as AbsolutePath, text("v".repeat(100)));
    await z.close();
    const info = await pythonInfo(file);
    expect(info.bad).toBeNull();
    const [y, mo, d, h, mi, s] = info.entries[0]!.date as [number, number, number, number, number, number];
    const t = new Date(y, mo - 1, d, h, mi, s).getTime();
    expect(t).toBeGreaterThanOrEqual(Math.floor(before / 2000) * 2000 - 2000);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it("a local header and its central record agree on method, CRC, sizes and name, field by field", () => {
    const bytes = assemble([
      { name: "s", data: text("stored data") },
      { name: "d/é", data: text("deflated ".repeat(50)), method: 8 },
    ]);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const e of readDirectory(bytes)) {
      const h = e.headerOffset;
      expect(v.getUint32(h, true)).toBe(0x04034b50);
      expect(v.getUint16(h + 4, true)).toBe(20); // version needed: 2.0 (deflate)
      expect(v.getUint16(h + 6, true)).toBe(0x0800); // UTF-8 names, sizes in the header (no descriptor)
      expect(v.getUint16(h + 8, true)).toBe(e.method);
      expect(v.getUint32(h + 14, true)).toBe(e.crc32);
      expect(v.getUint32(h + 18, true)).toBe(e.compressedSize);
      expect(v.getUint32(h + 22, true)).toBe(e.size);
      const nameLength = v.getUint16(h + 26, true);
      expect(new TextDecoder().decode(bytes.subarray(h + 30, h + 30 + nameLength))).toBe(e.name);
      expect(v.getUint16(h + 28, true)).toBe(0);
    }
  });

  it("a local header for an entry of 4 GiB or more: ZIP64 sentinels, version 4.5, both sizes in its extra field", () => {
    const size = 2 ** 32 + 5;
    const h = localHeader({ name: "big", method: 0, crc32: 7, compressedSize: size, size, headerOffset: 0 });
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    expect(v.getUint16(4, true)).toBe(45);
    expect(v.getUint32(18, true)).toBe(0xffffffff);
    expect(v.getUint32(22, true)).toBe(0xffffffff);
    expect(v.getUint16(28, true)).toBe(20);
    expect(localDataStart(h, "t")).toBe(30 + 3 + 20);
    expect(v.getUint16(33, true)).toBe(0x0001);
    expect(v.getUint16(35, true)).toBe(16);
    expect(Number(v.getBigUint64(37, true))).toBe(size);
    expect(Number(v.getBigUint64(45, true))).toBe(size);
    // Only the compressed size that large is enough to need them.
    const deflated = localHeader({
      name: "d",
      method: 8,
      crc32: 7,
      compressedSize: 2 ** 32,
      size: 10,
      headerOffset: 0,
    });
    expect(new DataView(deflated.buffer).getUint32(18, true)).toBe(0xffffffff);
    expect(localDataStart(deflated, "t")).toBe(30 + 1 + 20);
    // Just under 4 GiB: the classic fields hold it.
    const under = localHeader({
      name: "u",
      method: 0,
      crc32: 7,
      compressedSize: 2 ** 32 - 2,
      size: 2 ** 32 - 2,
      headerOffset: 0,
    });
    expect(new DataView(under.buffer).getUint32(22, true)).toBe(2 ** 32 - 2);
    expect(localDataStart(under, "t")).toBe(31);
  });

  it("an archive comment up to 65,535 bytes is written and read back by Python; one byte more is refused", async () => {
    const file = `${tmp.dir}/comment.zip`;
    const comment = text("c".repeat(65_535));
    await writeFile(file, assemble([{ name: "a", data: text("alpha") }], new Date(), comment));
    const out = await python(
      "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.comment), z.testzip())",
      file,
    );
    expect(out.trim()).toBe("65535 None");
    expect(() => centralDirectory([], 0, new Date(), new Uint8Array(65_536))).toThrow(/at most 65,535 bytes/);
  });
});
