// The 16-bit entry count of the zip format, in memory (quick enough for mutation runs): 65,534
// entries keep the classic records, 65,535 and more need ZIP64 records, and exactly 65,535 with the
// count in the classic record and no ZIP64 records (as Python's zipfile writes them) read too.
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isShardedStoreError } from "../src/errors.js";
import {
  centralDirectory,
  findCentralDirectory,
  localHeader,
  MAX_TAIL,
  ZIP64_END_SIZE,
  type ZipEntry,
} from "../src/zip-format.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { listAll } from "./helpers/arrays.js";
import { craftZip, readDirectory } from "./helpers/zip-craft.js";

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe("the 16-bit entry count", () => {
  for (const count of [65_534, 65_535, 65_536]) {
    it(`${count} entries: the directory is found and read back whole (ZIP64 records from 65,535 on)`, () => {
      const entries: ZipEntry[] = Array.from({ length: count }, (_, i) => ({
        name: `c/${i}`,
        method: 0,
        crc32: 0,
        compressedSize: 0,
        size: 0,
        headerOffset: 0,
      }));
      const dir = centralDirectory(entries, 0);
      const tail = dir.subarray(Math.max(0, dir.length - MAX_TAIL));
      const found = findCentralDirectory(tail, dir.length, "test");
      expect("zip64Offset" in found).toBe(count >= 65_535);
      const back = readDirectory(dir);
      expect(back.length).toBe(count);
      expect(back[count - 1]!.name).toBe(`c/${count - 1}`);
      expect(back[0]!.name).toBe("c/0");
    });
  }

  it("reads exactly 65,535 entries with the count in the classic record and no ZIP64 records", async () => {
    // As Python's zipfile writes them: the classic end record holds 0xFFFF as the real count.
    const first: ZipEntry = {
      name: "k/0",
      method: 0,
      crc32: crc32(text("zero")) >>> 0,
      compressedSize: 4,
      size: 4,
      headerOffset: 0,
    };
    const data = Buffer.concat([localHeader(first), text("zero")]);
    const entries: ZipEntry[] = [first];
    for (let i = 1; i < 65_535; i++)
      entries.push({ name: `k/${i}`, method: 0, crc32: 0, compressedSize: 0, size: 0, headerOffset: 0 });
    const withZip64 = centralDirectory(entries, data.length);
    const records = withZip64.subarray(0, withZip64.length - ZIP64_END_SIZE - 20 - 22);
    const end = withZip64.slice(withZip64.length - 22);
    new DataView(end.buffer).setUint32(12, records.length, true);
    new DataView(end.buffer).setUint32(16, data.length, true);
    const bytes = Buffer.concat([data, records, end]);
    expect(new DataView(end.buffer).getUint16(10, true)).toBe(0xffff);
    expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]))).toBe(false);
    const z = new BrowserZipStore(bytes);
    const keys = await listAll(z);
    expect(keys.length).toBe(65_535);
    expect(keys).toContain("/k/65534");
    expect(decode(await z.get("/k/0"))).toBe("zero");
  });

  it("a 0xFFFF count without ZIP64 records but with an offset or size sentinel: a StoreError", async () => {
    for (const opts of [{ offsetSentinel: true }, { sizeSentinel: true }]) {
      const bytes = craftZip([{ name: "a", data: text("alpha") }], { countSentinel: true, ...opts });
      const err = await new BrowserZipStore(bytes).get("/a").catch((e: unknown) => e);
      expect(isShardedStoreError(err, "StoreError")).toBe(true);
      expect((err as Error).message).toMatch(/not a valid zip: ZIP64 locator missing/);
    }
  });
});
