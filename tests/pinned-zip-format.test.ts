// The zip format in memory, quick enough for every mutation run: archives shaped as other writers
// make them (ZIP64 fields for any subset of size / compressed size / offset, after another extra
// field; ZIP64 end records with sentinels; comments that contain an end-record signature), read back
// entry for entry; every kind of damaged end record or central directory refused with a StoreError
// saying what is wrong; and the records we write, field by field as strict readers see them.
import { deflateRawSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isShardedStoreError } from "../src/errors.js";
import {
  centralDirectory,
  findCentralDirectory,
  localDataStart,
  localHeader,
  MAX_TAIL,
  metadataFirst,
  parseCentralDirectory,
  ZIP64_END_SIZE,
  type ZipEntry,
} from "../src/zip-format.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { listAll } from "./helpers/arrays.js";
import {
  type CraftEntry,
  type CraftOptions,
  craftZip,
  NTFS_EXTRA,
  readDirectory,
  TIMESTAMP_EXTRA,
} from "./helpers/zip-craft.js";

const text = (s: string) => new TextEncoder().encode(s);
const U32 = 0xffffffff;

/** The error reading `/a` of an archive held in memory gives (undefined if none). */
async function readError(bytes: Uint8Array): Promise<Error | undefined> {
  const err = await new BrowserZipStore(bytes).get("/a").then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err !== undefined) expect(isShardedStoreError(err, "StoreError"), String(err)).toBe(true);
  return err as Error | undefined;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
/** Where the (last) record with this signature starts. */
const lastSig = (b: Uint8Array, sig: number) =>
  Buffer.from(b).lastIndexOf(Buffer.from([sig & 0xff, (sig >>> 8) & 0xff, (sig >>> 16) & 0xff, sig >>> 24]));

const zip64Fields = fc.subarray(["size", "compressedSize", "offset"] as const);
const craftEntry = (name: string): fc.Arbitrary<CraftEntry> =>
  fc.record(
    {
      name: fc.constant(name),
      data: fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ maxLength: 200 }).map((s) => text(s.repeat(3))),
      ),
      method: fc.constantFrom(0 as const, 8 as const),
      zip64: zip64Fields.map((z) => [...z]),
      extraBefore: fc.constant(TIMESTAMP_EXTRA),
      localExtra: fc.uint8Array({ minLength: 4, maxLength: 40 }),
    },
    { requiredKeys: ["name", "data", "method", "zip64"] },
  );
/** Names unique by construction: a, b, c/…; `a` always exists. */
const craftEntries = fc
  .integer({ min: 1, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => craftEntry(i === 0 ? "a" : `d${i}/e.${i}`))));
const endOptions: fc.Arbitrary<CraftOptions> = fc.oneof(
  fc.record({ comment: fc.uint8Array({ maxLength: 80 }) }, { requiredKeys: [] }),
  fc.record(
    {
      zip64End: fc.constant(true),
      countSentinel: fc.boolean(),
      offsetSentinel: fc.boolean(),
      sizeSentinel: fc.boolean(),
      comment: fc.constantFrom(
        text("PK\x05\x06 not an end record"),
        text("PK\x06\x07 nor a locator"),
        new Uint8Array(22),
      ),
    },
    { requiredKeys: ["zip64End", "countSentinel", "offsetSentinel", "sizeSentinel"] },
  ),
);

describe("archives as other writers make them, read in memory", () => {
  it("any mix of ZIP64 fields, extra fields before them, ZIP64 end records, sentinels and comments (property)", async () => {
    await fc.assert(
      fc.asyncProperty(craftEntries, endOptions, async (entries, options) => {
        const bytes = craftZip(entries, options);
        // The directory as an independent writer wrote it: real sizes and offsets, whatever the
        // sentinels, in the order written.
        const dir = readDirectory(bytes);
        expect(dir.map((e) => e.name)).toEqual(entries.map((e) => e.name));
        let at = 0;
        for (const [i, e] of entries.entries()) {
          const stored = e.method === 8 ? deflateRawSync(e.data) : e.data;
          expect(dir[i]).toMatchObject({
            method: e.method ?? 0,
            size: e.data.length,
            compressedSize: stored.length,
          });
          expect(dir[i]!.headerOffset).toBe(at);
          at += 30 + text(e.name).length + (e.localExtra?.length ?? 0) + stored.length;
        }
        const z = new BrowserZipStore(bytes);
        expect(await listAll(z)).toEqual(entries.map((e) => `/${e.name}`).sort());
        for (const e of entries) expect(await z.get(`/${e.name}`)).toEqual(e.data);
        const a = entries[0]!.data;
        if (a.length > 2)
          expect(await z.getRange("/a", { offset: 1, length: a.length - 2 })).toEqual(
            a.subarray(1, a.length - 1),
          );
      }),
      { numRuns: 60 },
    );
  });

  it("a comment of up to 65,535 bytes with end-record signatures inside: the real end record is found", async () => {
    // A whole end record inside the comment (its own comment length does not reach the file's end).
    const fake = new Uint8Array(
      Buffer.concat([craftZip([{ name: "zz", data: text("decoy") }]).subarray(-22), text("!")]),
    );
    for (const comment of [fake, text(`${"x".repeat(1000)}PK\x05\x06`), new Uint8Array(65_535).fill(0x50)]) {
      const bytes = craftZip([{ name: "a", data: text("alpha") }], { comment });
      const z = new BrowserZipStore(bytes);
      expect(await listAll(z)).toEqual(["/a"]);
      expect(await z.get("/a")).toEqual(text("alpha"));
      const found = findCentralDirectory(bytes.subarray(-MAX_TAIL), bytes.length, "t");
      expect(found).toMatchObject({ entries: 1, comment });
    }
    // No comment: none reported.
    const plain = craftZip([{ name: "a", data: text("alpha") }]);
    expect(findCentralDirectory(plain, plain.length, "t")).not.toHaveProperty("comment");
  });

  it("a comment after ZIP64 end records is reported with the ZIP64 end record's place", () => {
    const comment = text("kept");
    const bytes = craftZip([{ name: "a", data: text("alpha") }], {
      zip64End: true,
      offsetSentinel: true,
      comment,
    });
    const found = findCentralDirectory(bytes, bytes.length, "t");
    expect(found).toEqual({ zip64Offset: lastSig(bytes, 0x06064b50), comment });
  });

  it("entry comments, a ZIP64 field after a longer extra field, and a locator-like extra: read entry for entry", async () => {
    const fakeLocator = new Uint8Array([
      0x50, 0x4b, 0x06, 0x07, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    ]);
    const entries: CraftEntry[] = [
      { name: "a", data: text("alpha"), comment: text("first entry's comment") },
      {
        name: "b",
        data: text("beta ".repeat(40)),
        method: 8,
        zip64: ["size", "offset"],
        extraBefore: NTFS_EXTRA,
      },
      { name: "c", data: text("gamma"), comment: text("x") },
      // Ends the directory with bytes shaped like a ZIP64 locator, in an archive with no sentinel.
      { name: "d", data: text("delta"), extraBefore: new Uint8Array([0x99, 0x99, 20, 0, ...fakeLocator]) },
    ];
    const bytes = craftZip(entries);
    const z = new BrowserZipStore(bytes);
    expect(await listAll(z)).toEqual(["/a", "/b", "/c", "/d"]);
    for (const e of entries) expect(await z.get(`/${e.name}`)).toEqual(e.data);
    expect(readDirectory(bytes)[1]).toMatchObject({ size: 200, headerOffset: 30 + 1 + 5 });
  });

  it("a ZIP64 archive with a 65,535-byte comment: the locator is the first byte of the end records read", async () => {
    const comment = new Uint8Array(65_535).fill(0x63);
    const bytes = craftZip([{ name: "a", data: text("alpha"), zip64: ["offset"] }], {
      zip64End: true,
      offsetSentinel: true,
      countSentinel: true,
      comment,
    });
    expect(bytes.length).toBeGreaterThan(MAX_TAIL);
    expect(await new BrowserZipStore(bytes).get("/a")).toEqual(text("alpha"));
  });

  it("a last central record of exactly 46 bytes (an empty name, as some writers leave) does not hide the others", async () => {
    const bytes = craftZip([
      { name: "a", data: text("alpha") },
      { name: "", data: new Uint8Array(0) },
    ]);
    expect(await new BrowserZipStore(bytes).get("/a")).toEqual(text("alpha"));
    expect(readDirectory(bytes).map((e) => e.name)).toEqual(["a", ""]);
  });

  it("an encrypted entry (flag bit 0) is refused by name, not read as garbage", async () => {
    const bytes = craftZip([{ name: "a", data: text("alpha") }]);
    const cd = Buffer.from(bytes).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    view(bytes).setUint16(cd + 8, 0x0801, true);
    const err = await readError(bytes);
    expect(err?.message).toMatch(/entry "a" is encrypted \(not supported\)/);
  });

  it("the end record read from a tail that starts inside the file: offsets are of the whole file", () => {
    const bytes = craftZip([
      { name: "a", data: new Uint8Array(5000).fill(7) },
      { name: "b", data: text("bee") },
    ]);
    const tail = bytes.subarray(bytes.length - 200);
    const found = findCentralDirectory(tail, bytes.length, "t") as { offset: number; size: number };
    expect(found.offset).toBe(lastSig(bytes, 0x06054b50) - found.size);
    expect(readDirectory(bytes).map((e) => e.headerOffset)).toEqual([0, 30 + 1 + 5000]);
  });
});

describe("damaged end records and central directories: a StoreError saying what", () => {
  const good = () =>
    craftZip([
      { name: "a", data: text("alpha") },
      { name: "bb", data: text("beta") },
    ]);
  const good64 = () =>
    craftZip(
      [
        { name: "a", data: text("alpha"), zip64: ["size", "offset"] },
        { name: "bb", data: text("beta") },
      ],
      { zip64End: true, countSentinel: true, offsetSentinel: true, sizeSentinel: true },
    );
  const eocd = (b: Uint8Array) => lastSig(b, 0x06054b50);
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    [
      "a directory said to run past the end records",
      () => {
        const b = good();
        view(b).setUint32(eocd(b) + 12, view(b).getUint32(eocd(b) + 12, true) + 1, true);
        return b;
      },
      /the central directory \(\d+ bytes at \d+\) lies beyond the end of the file \(\d+\)/,
    ],
    [
      "a directory offset past the end records",
      () => {
        const b = good();
        view(b).setUint32(eocd(b) + 16, eocd(b) - 10, true);
        return b;
      },
      /lies beyond the end of the file/,
    ],
    [
      "more entries than the directory's size can hold",
      () => {
        const b = good();
        view(b).setUint16(eocd(b) + 10, 3, true);
        return b;
      },
      /3 entries cannot fit a central directory of \d+ bytes/,
    ],
    [
      "a ZIP64 end record without its signature",
      () => {
        const b = good64();
        view(b).setUint32(lastSig(b, 0x06064b50), 0, true);
        return b;
      },
      /bad ZIP64 end record/,
    ],
    [
      "a ZIP64 locator pointing into the locator itself",
      () => {
        const b = good64();
        const loc = lastSig(b, 0x07064b50);
        view(b).setBigUint64(loc + 8, BigInt(loc - ZIP64_END_SIZE + 1), true);
        return b;
      },
      /the ZIP64 end record \(at \d+\) lies beyond the end of the file/,
    ],
    [
      "a ZIP64 locator offset beyond 2^53",
      () => {
        const b = good64();
        view(b).setBigUint64(lastSig(b, 0x07064b50) + 8, 2n ** 60n, true);
        return b;
      },
      /the ZIP64 end record offset 1152921504606846976 is beyond any real file/,
    ],
    [
      "a ZIP64 directory said to run past the ZIP64 end record",
      () => {
        const b = good64();
        const end = lastSig(b, 0x06064b50);
        view(b).setBigUint64(end + 40, view(b).getBigUint64(end + 40, true) + 1n, true);
        return b;
      },
      /the central directory \(\d+ bytes at \d+\) lies beyond the end of the file/,
    ],
    [
      "a ZIP64 entry count that cannot fit",
      () => {
        const b = good64();
        view(b).setBigUint64(lastSig(b, 0x06064b50) + 32, 1000n, true);
        return b;
      },
      /1000 entries cannot fit a central directory/,
    ],
    [
      "an entry's ZIP64 offset beyond 2^53",
      () => {
        const b = good64();
        // The first record's ZIP64 field: size, then offset.
        const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        const field = Buffer.from(b).indexOf(Buffer.from([0x01, 0x00, 16, 0x00]), cd);
        view(b).setBigUint64(field + 4 + 8, 2n ** 62n, true);
        return b;
      },
      /entry "a"'s ZIP64 offset \d+ is beyond any real file/,
    ],
    [
      "an entry's ZIP64 size beyond 2^53",
      () => {
        const b = good64();
        const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        const field = Buffer.from(b).indexOf(Buffer.from([0x01, 0x00, 16, 0x00]), cd);
        view(b).setBigUint64(field + 4, 2n ** 62n, true);
        return b;
      },
      /entry "a"'s ZIP64 size \d+ is beyond any real file/,
    ],
    [
      "a ZIP64 field shorter than the sentinels need",
      () => {
        const b = craftZip([{ name: "a", data: text("alpha"), zip64: ["size"] }]);
        const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        view(b).setUint32(cd + 20, U32, true); // the compressed size too, with only 8 bytes of field
        return b;
      },
      /entry "a" has no ZIP64 field for its sizes/,
    ],
    [
      "an extra field running past the record's extra area",
      () => {
        const b = craftZip([
          { name: "a", data: text("alpha"), zip64: ["offset"], extraBefore: TIMESTAMP_EXTRA },
        ]);
        const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        view(b).setUint16(cd + 46 + 1 + 2, 200, true); // the timestamp field claims 200 bytes
        return b;
      },
      /entry "a" has no ZIP64 field for its sizes/,
    ],
    ["no end record at all", () => good().slice(0, -22), /end of central directory record not found/],
    [
      "a record's name running past the directory",
      () => {
        const b = good();
        const second = lastSig(b, 0x02014b50);
        view(b).setUint16(second + 28, 40, true);
        return b;
      },
      /central directory entry 1 runs past the directory's end/,
    ],
    [
      "a second record cut inside its fixed 46 bytes",
      () => {
        const b = good();
        view(b).setUint32(eocd(b) + 12, 92, true); // 2 × 46: the second record (at 47) needs 93
        return b;
      },
      /central directory entry 1 is damaged/,
    ],
    [
      "a ZIP64 entry count beyond 2^53",
      () => {
        const b = good64();
        view(b).setBigUint64(lastSig(b, 0x06064b50) + 32, 2n ** 60n, true);
        return b;
      },
      /the ZIP64 entry count 1152921504606846976 is beyond any real file/,
    ],
    [
      "a ZIP64 directory size beyond 2^53",
      () => {
        const b = good64();
        view(b).setBigUint64(lastSig(b, 0x06064b50) + 40, 2n ** 60n, true);
        return b;
      },
      /the ZIP64 central directory size 1152921504606846976 is beyond any real file/,
    ],
    [
      "a ZIP64 directory offset beyond 2^53",
      () => {
        const b = good64();
        view(b).setBigUint64(lastSig(b, 0x06064b50) + 48, 2n ** 60n, true);
        return b;
      },
      /the ZIP64 central directory offset 1152921504606846976 is beyond any real file/,
    ],
    [
      "a ZIP64 locator offset of exactly 2^53 - 1 (a number, but beyond the file)",
      () => {
        const b = good64();
        view(b).setBigUint64(lastSig(b, 0x07064b50) + 8, 2n ** 53n - 1n, true);
        return b;
      },
      /the ZIP64 end record \(at 9007199254740991\) lies beyond the end of the file/,
    ],
    [
      "an entry's ZIP64 compressed size beyond 2^53",
      () => {
        const b = craftZip([{ name: "a", data: text("alpha"), zip64: ["compressedSize"] }]);
        const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        view(b).setBigUint64(cd + 46 + 1 + 4, 2n ** 62n, true);
        return b;
      },
      /entry "a"'s ZIP64 compressed size \d+ is beyond any real file/,
    ],
    [
      "a ZIP64 field too short for both the size and the offset it must hold",
      () => {
        const b = craftZip([{ name: "a", data: text("alpha"), zip64: ["size", "offset"] }]);
        const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        view(b).setUint16(cd + 46 + 1 + 2, 8, true); // the field says 8 bytes; 8 more follow in the area
        view(b).setUint16(cd + 46 + 1 + 4 + 8, 0x7777, true); // …as a field of another kind
        view(b).setUint16(cd + 46 + 1 + 4 + 10, 4, true);
        return b;
      },
      /entry "a" has no ZIP64 field for its sizes/,
    ],
    [
      "a ZIP64 field claiming more bytes than the record's extra area holds",
      () => {
        const b = craftZip([
          { name: "a", data: text("alpha"), zip64: ["size"] },
          { name: "bb", data: text("beta") },
        ]);
        const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        view(b).setUint16(cd + 46 + 1 + 2, 16, true); // 8 bytes are there; the next record follows
        return b;
      },
      /entry "a" has no ZIP64 field for its sizes/,
    ],
    [
      "an end record with no directory records where one is counted",
      () => {
        const b = good();
        const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
        b.fill(0x20, cd, cd + 46);
        return b;
      },
      /central directory entry 0 is damaged/,
    ],
  ];
  for (const [what, damaged, why] of cases) {
    it(`${what}`, async () => {
      const err = await readError(damaged());
      expect(err?.message).toMatch(/^ZipStore\(<\d+ bytes>\): get "\/a" failed: not a valid zip: /);
      expect(err?.message).toMatch(why);
    });
  }

  it("every byte of the end records and directory changed: the right data or a StoreError, never another error (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        async (zip64, where, value) => {
          const b = zip64 ? good64() : good();
          const cd = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
          const at = cd + (where % (b.length - cd));
          b[at] = value;
          const got = await new BrowserZipStore(b).get("/a").then(
            (v) => v,
            (e: unknown) => e,
          );
          if (got instanceof Error) expect(isShardedStoreError(got, "StoreError"), String(got)).toBe(true);
          else expect(got === undefined || got instanceof Uint8Array).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("the directory we write", () => {
  const entry = (name: string, size: number, headerOffset: number): ZipEntry => ({
    name,
    method: 0,
    crc32: 1,
    compressedSize: size,
    size,
    headerOffset,
  });

  it("ZIP64 fields only for the values that overflow, in the order size, compressed size, offset", () => {
    const big = 2 ** 32 + 3;
    const cases: Array<[ZipEntry, number[]]> = [
      [entry("s", big, 0), [big, big]],
      [{ ...entry("c", 10, 0), compressedSize: big }, [big]],
      [entry("o", 10, big), [big]],
      [{ ...entry("all", big, big), compressedSize: big + 1 }, [big, big + 1, big]],
      [entry("none", U32 - 1, U32 - 1), []],
      [entry("exactly", U32, U32), [U32, U32, U32]],
      [{ ...entry("c-exactly", 10, 0), compressedSize: U32 }, [U32]],
    ];
    for (const [e, fields] of cases) {
      const out = centralDirectory([e], 2 ** 33);
      const v = view(out);
      expect(v.getUint32(0, true)).toBe(0x02014b50);
      expect(v.getUint16(6, true)).toBe(fields.length > 0 ? 45 : 20); // version needed
      expect(v.getUint32(20, true)).toBe(Math.min(e.compressedSize, U32));
      expect(v.getUint32(24, true)).toBe(Math.min(e.size, U32));
      expect(v.getUint32(42, true)).toBe(Math.min(e.headerOffset, U32));
      const extraLength = v.getUint16(30, true);
      expect(extraLength).toBe(fields.length > 0 ? 4 + 8 * fields.length : 0);
      const x = 46 + e.name.length;
      if (fields.length > 0) {
        expect(v.getUint16(x, true)).toBe(1);
        expect(v.getUint16(x + 2, true)).toBe(8 * fields.length);
        expect(fields.map((_, i) => Number(v.getBigUint64(x + 4 + 8 * i, true)))).toEqual(fields);
      }
      // And read back as written (the offset of 2^33 puts the directory in ZIP64 records).
      const [back] = parseCentralDirectory(out, 1, "t");
      expect(back).toMatchObject({
        size: e.size,
        compressedSize: e.compressedSize,
        headerOffset: e.headerOffset,
      });
      expect(lastSig(out, 0x06064b50)).toBe(46 + e.name.length + extraLength);
    }
  });

  it("a directory past 4 GiB or a value that overflows: ZIP64 end records with the real count, size and offset", () => {
    for (const [entries, offset] of [
      [[entry("a", 1, 0)], U32],
      [[entry("a", 1, 0), entry("b", 2 ** 32, 1)], 2 ** 33],
      [[entry("a", 1, U32)], 2 ** 32 + 9],
    ] as Array<[ZipEntry[], number]>) {
      const out = centralDirectory(entries, offset);
      const end64 = lastSig(out, 0x06064b50);
      const v = view(out);
      expect(end64).toBeGreaterThan(0);
      expect(Number(v.getBigUint64(end64 + 4, true))).toBe(44); // size of the rest of the record
      expect(v.getUint16(end64 + 12, true)).toBe((3 << 8) | 45); // made by: Unix, spec 4.5
      expect(v.getUint16(end64 + 14, true)).toBe(45); // needed to extract: 4.5
      expect(Number(v.getBigUint64(end64 + 24, true))).toBe(entries.length);
      expect(Number(v.getBigUint64(end64 + 32, true))).toBe(entries.length);
      expect(Number(v.getBigUint64(end64 + 40, true))).toBe(end64);
      expect(Number(v.getBigUint64(end64 + 48, true))).toBe(offset);
      const loc = end64 + 56;
      expect(v.getUint32(loc, true)).toBe(0x07064b50);
      expect(Number(v.getBigUint64(loc + 8, true))).toBe(offset + end64);
      expect(v.getUint32(loc + 16, true)).toBe(1); // disks
      const end = loc + 20;
      expect([v.getUint16(end + 8, true), v.getUint16(end + 10, true)]).toEqual([0xffff, 0xffff]);
      expect([v.getUint32(end + 12, true), v.getUint32(end + 16, true)]).toEqual([U32, U32]);
      expect(out.length).toBe(end + 22);
    }
    // Just under every limit: classic records only, holding the real values.
    const out = centralDirectory([entry("a", U32 - 1, U32 - 1)], U32 - 1);
    expect(lastSig(out, 0x06064b50)).toBe(-1);
    const v = view(out);
    expect(v.getUint32(out.length - 22 + 16, true)).toBe(U32 - 1);
    expect(v.getUint16(out.length - 22 + 8, true)).toBe(1);
  });

  it("the archive comment we write is found again, whatever its length", () => {
    for (const comment of [text("kept"), text('{"ome":{"version":"0.5"}}'), new Uint8Array(300).fill(1)]) {
      const out = centralDirectory([entry("a", 1, 0)], 0, new Date(), comment);
      expect(findCentralDirectory(out, out.length, "t")).toMatchObject({ entries: 1, comment });
    }
  });

  it("a local header carries the central record's DOS time and date, field by field", () => {
    const when = new Date(2023, 10, 7, 9, 8, 46);
    const e = entry("a", 1, 0);
    const out = centralDirectory([e], 31, when);
    const h = view(localHeader(e, when));
    const c = view(out);
    expect(h.getUint16(10, true)).toBe(c.getUint16(12, true));
    expect(h.getUint16(12, true)).toBe(c.getUint16(14, true));
    expect(h.getUint16(10, true)).toBe((9 << 11) | (8 << 5) | 23);
    expect(h.getUint16(12, true)).toBe(((2023 - 1980) << 9) | (11 << 5) | 7);
  });

  it("a local header of a deflated entry of 4 GiB or more, even with a small compressed size, has ZIP64 sizes", () => {
    for (const [size, compressedSize] of [
      [2 ** 32 + 5, 4000],
      [U32, U32 - 10],
    ]) {
      const h = localHeader({
        name: "z",
        method: 8,
        crc32: 1,
        compressedSize: compressedSize!,
        size: size!,
        headerOffset: 0,
      });
      expect(localDataStart(h, "t")).toBe(30 + 1 + 20);
      expect(view(h).getUint32(22, true)).toBe(U32);
      expect(Number(view(h).getBigUint64(31 + 4, true))).toBe(size);
      expect(Number(view(h).getBigUint64(31 + 12, true))).toBe(compressedSize);
    }
    // A reader may read exactly the 30 fixed bytes to find where the data starts.
    const h = localHeader(entry("name", 1, 0));
    expect(localDataStart(h.subarray(0, 30), "t")).toBe(30 + 4);
  });

  it("records of another writer (raw) are written back byte for byte among ours", () => {
    const theirs = readDirectory(
      craftZip([{ name: "old", data: text("x"), zip64: ["offset"], extraBefore: TIMESTAMP_EXTRA }]),
    )[0]!;
    const ours = entry("new", 3, 100);
    const out = centralDirectory([theirs, ours], 200);
    expect(out.subarray(0, theirs.raw!.length)).toEqual(theirs.raw);
    const back = parseCentralDirectory(out.subarray(0, out.length - 22), 2, "t");
    expect(back.map((e) => [e.name, e.headerOffset, e.size])).toEqual([
      ["old", 0, 1],
      ["new", 100, 3],
    ]);
    expect(view(out).getUint32(out.length - 22 + 12, true)).toBe(theirs.raw!.length + 46 + 3);
    expect(parseCentralDirectory(out, 1, "t", { raw: false })[0]!.raw).toBeUndefined();
  });
});

describe("metadata documents first", () => {
  const names = fc.array(
    fc
      .tuple(
        fc.array(fc.constantFrom("a", "b", "ab", "c"), { maxLength: 3 }),
        fc.constantFrom(
          "zarr.json",
          ".zgroup",
          ".zarray",
          ".zattrs",
          ".zmetadata",
          "0",
          "c",
          "x.json",
          "zarr.jsonx",
        ),
      )
      .map(([dirs, leaf]) => [...dirs, leaf].join("/")),
    { maxLength: 30 },
  );
  const RANK = ["zarr.json", ".zgroup", ".zarray", ".zattrs", ".zmetadata"];
  const leaf = (n: string) => n.slice(n.lastIndexOf("/") + 1);
  const depth = (n: string) => n.split("/").length - 1;

  it("puts every metadata document before every other entry, shallower first, others in their order (property)", () => {
    fc.assert(
      fc.property(names, (list) => {
        const entries = list.map((name, i) => ({ name, i }));
        const out = metadataFirst(entries);
        expect([...out].sort((x, y) => x.i - y.i)).toEqual(entries);
        const isMeta = (e: { name: string }) => RANK.includes(leaf(e.name));
        const firstOther = out.findIndex((e) => !isMeta(e));
        if (firstOther >= 0) expect(out.slice(firstOther).every((e) => !isMeta(e))).toBe(true);
        const others = out.filter((e) => !isMeta(e)).map((e) => e.i);
        expect(others).toEqual([...others].sort((x, y) => x - y));
        const meta = out.filter(isMeta);
        for (let k = 1; k < meta.length; k++) {
          const [p, q] = [meta[k - 1]!.name, meta[k]!.name];
          expect(depth(p), `${p} before ${q}`).toBeLessThanOrEqual(depth(q));
          const [dp, dq] = [p.slice(0, p.lastIndexOf("/") + 1), q.slice(0, q.lastIndexOf("/") + 1)];
          if (depth(p) === depth(q) && dp === dq)
            expect(RANK.indexOf(leaf(p)), `${p} before ${q}`).toBeLessThanOrEqual(RANK.indexOf(leaf(q)));
          if (depth(p) === depth(q) && dp !== dq) expect(dp < dq, `${p} before ${q}`).toBe(true);
        }
      }),
    );
  });

  it("a folder's documents stay together, in the order zarr.json, .zgroup, .zarray, .zattrs, .zmetadata", () => {
    const order = metadataFirst(
      [
        "b/.zattrs",
        "a/c/0",
        "b/.zarray",
        ".zmetadata",
        "b/zarr.json",
        ".zgroup",
        "a/.zgroup",
        "b/.zgroup",
      ].map((name) => ({ name })),
    ).map((e) => e.name);
    expect(order).toEqual([
      ".zgroup",
      ".zmetadata",
      "a/.zgroup",
      "b/zarr.json",
      "b/.zgroup",
      "b/.zarray",
      "b/.zattrs",
      "a/c/0",
    ]);
  });
});
