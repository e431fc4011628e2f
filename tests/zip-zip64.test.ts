import { open } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import {
  centralDirectory,
  findCentralDirectory,
  LOCAL_HEADER_SIZE,
  localDataStart,
  localHeader,
  parseCentralDirectory,
  parseZip64End,
  type ZipEntry,
} from "../src/zip-format.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";
import { run, tempDirPerFile } from "./helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip64-");
const GiB = 2 ** 30;

describe("ZIP64", () => {
  it("writes and reads more than 65,535 entries, and unzip and Python's zipfile agree", async () => {
    const file = `${tmp.dir}/many.zip`;
    const z = new ZipStore(file, { mode: "w" });
    const count = 70_000;
    for (let i = 0; i < count; i += 5000) {
      await Promise.all(
        Array.from({ length: 5000 }, (_, j) => z.set(`/c/${i + j}`, new Uint8Array([(i + j) & 255]))),
      );
    }
    await z.close();
    const r = new ZipStore(file);
    expect(await r.get("/c/69999")).toEqual(new Uint8Array([69999 & 255]));
    expect(await r.get("/c/0")).toEqual(new Uint8Array([0]));
    expect((await listAll(r)).length).toBe(count);
    await r.close();
    const { stdout } = await run("unzip", ["-l", file], { maxBuffer: 64 << 20 });
    expect(stdout.trim().split("\n").at(-1)).toMatch(/70000 files/);
    const py = await python(
      "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.namelist()), z.read('c/69999')[0], z.testzip())",
      file,
    );
    expect(py.trim()).toBe(`70000 ${69999 & 255} None`);
  });

  it("reads a zip of more than 65,535 entries written by Python's zipfile", async () => {
    const file = `${tmp.dir}/py-many.zip`;
    await python(
      `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for i in range(66000):
        z.writestr(f'k/{i}', str(i))`,
      file,
    );
    const r = new ZipStore(file);
    expect(new TextDecoder().decode(await r.get("/k/65999"))).toBe("65999");
    expect((await listAll(r, "/k")).length).toBe(66000);
    await r.close();
  });

  it("encodes sizes and offsets beyond 4 GiB in ZIP64 records and parses them back (format unit)", () => {
    const entries: ZipEntry[] = [
      { name: "small", method: 0, crc32: 1, compressedSize: 10, size: 10, headerOffset: 0 },
      { name: "huge", method: 0, crc32: 2, compressedSize: 5 * GiB, size: 5 * GiB, headerOffset: 100 },
      { name: "after", method: 8, crc32: 3, compressedSize: 7, size: 9, headerOffset: 5 * GiB + 200 },
    ];
    const cdOffset = 5 * GiB + 300;
    const tail = centralDirectory(entries, cdOffset);
    const loc = findCentralDirectory(tail, cdOffset + tail.length, "t");
    expect("zip64Offset" in loc).toBe(true);
    const at = (loc as { zip64Offset: number }).zip64Offset - cdOffset;
    const end = parseZip64End(tail.subarray(at, at + 56), "t");
    expect(end).toEqual({ entries: 3, offset: cdOffset, size: at });
    const parsed = parseCentralDirectory(tail.subarray(0, end.size), 3, "t");
    expect(parsed.map(({ raw, flags, ...e }) => e)).toEqual(entries);
    // Records read back are written back byte for byte (appending keeps other writers' records).
    expect(centralDirectory(parsed, cdOffset)).toEqual(tail);
    // The local header of a 4 GiB+ entry carries both sizes in a ZIP64 extra field.
    const header = localHeader(entries[1]!);
    const v = new DataView(header.buffer);
    expect([v.getUint32(18, true), v.getUint32(22, true), v.getUint16(28, true)]).toEqual([
      0xffffffff, 0xffffffff, 20,
    ]);
    expect(v.getBigUint64(LOCAL_HEADER_SIZE + 4 + 4, true)).toBe(BigInt(5 * GiB));
    expect(localDataStart(header, "t")).toBe(header.length);
    // Small archives keep the classic records only.
    const small = centralDirectory([entries[0]!], 10);
    expect(findCentralDirectory(small, 10 + small.length, "t")).toEqual({ entries: 1, offset: 10, size: 51 });
  });

  it("an archive over 4 GiB (a sparse file): our reader, Python's zipfile and unzip agree", async () => {
    // Built with the format encoders at real offsets; the 5 GiB entry is a hole, so this costs no disk.
    const file = `${tmp.dir}/huge.zip`;
    const enc = new TextEncoder();
    const entries: ZipEntry[] = [];
    const fh = await open(file, "w");
    try {
      let end = 0;
      const put = async (name: string, size: number, data?: Uint8Array) => {
        // The hole's CRC-32 is never checked here (nobody reads all 5 GiB), so it is left 0.
        const e: ZipEntry = {
          name,
          method: 0,
          crc32: data ? (await import("node:zlib")).crc32(data) >>> 0 : 0,
          compressedSize: size,
          size,
          headerOffset: end,
        };
        const h = localHeader(e);
        await fh.write(h, 0, h.length, end);
        if (data) await fh.write(data, 0, data.length, end + h.length);
        end += h.length + size;
        entries.push(e);
      };
      await put("small", 5, enc.encode("hello"));
      await put("huge", 5 * GiB);
      await put("after", 5, enc.encode("world"));
      const cd = centralDirectory(entries, end);
      await fh.write(cd, 0, cd.length, end);
    } finally {
      await fh.close();
    }
    expect(entries[2]!.headerOffset).toBeGreaterThan(4 * GiB);

    const z = new ZipStore(file);
    expect(new TextDecoder().decode(await z.get("/after"))).toBe("world");
    expect(new TextDecoder().decode(await z.get("/small"))).toBe("hello");
    expect(await z.getRange("/huge", { offset: 4.5 * GiB, length: 16 })).toEqual(new Uint8Array(16));
    expect(await z.getRange("/huge", { suffixLength: 3 })).toEqual(new Uint8Array(3));
    expect(await listAll(z)).toEqual(["/after", "/huge", "/small"]);
    await z.close();

    const py = await python(
      `import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(z.read('after').decode(), z.read('small').decode(), [(i.filename, i.file_size, i.header_offset > 2**32) for i in z.infolist()])`,
      file,
    );
    expect(py.trim()).toBe(
      `world hello [('small', 5, False), ('huge', ${5 * GiB}, False), ('after', 5, True)]`,
    );
    const { stdout } = await run("unzip", ["-l", file]);
    expect(stdout).toMatch(new RegExp(`${5 * GiB}\\s+\\S+\\s+\\S+\\s+huge`));
  });
});
