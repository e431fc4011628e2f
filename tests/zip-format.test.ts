// What the zip format code must read and write, checked against strict outside readers (unzip -t,
// Python's zipfile) and against archives shaped as other writers make them.
import { readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { isShardedStoreError } from "../src/errors.js";
import type { AbsolutePath } from "../src/types.js";
import { metadataFirst } from "../src/zip-format.js";
import { ZipStore as BrowserZipStore } from "../src/zip-store.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";
import { craftZip, TIMESTAMP_EXTRA } from "./helpers/zip-craft.js";
import { run, tempDirPerFile, writeZip } from "./helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-format-");
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
const SIG_EOCD64 = Buffer.from([0x50, 0x4b, 0x06, 0x06]);

/** Python's view of an archive: names, each entry's compression method and content, and the comment. */
async function pythonView(file: string): Promise<string> {
  return (
    await python(
      `import sys, zipfile, json
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({"names": z.namelist(), "methods": [i.compress_type for i in z.infolist()], "data": {n: z.read(n).decode("latin-1") for n in z.namelist()}, "comment": z.comment.decode("latin-1")}))`,
      file,
    )
  ).trim();
}

describe("zip format: what strict readers check", () => {
  it("deflated and stored archives we write pass unzip -t (local headers carry the right method)", async () => {
    for (const compression of ["deflate", "store"] as const) {
      const file = `${tmp.dir}/strict-${compression}.zip`;
      await writeZip(file, { "a/zarr.json": "{}", "a/c/0": "x".repeat(5000), empty: "" }, compression);
      const { stdout } = await run("unzip", ["-t", file]);
      expect(stdout).toMatch(/No errors detected/);
      const view = JSON.parse(await pythonView(file));
      expect(new Set(view.methods)).toEqual(new Set(compression === "deflate" ? [8] : [0]));
      // The local header's method (offset 8) is the central one, byte for byte.
      const bytes = await readFile(file);
      expect(bytes.readUInt16LE(8)).toBe(compression === "deflate" ? 8 : 0);
    }
  });
});

describe("zip format: ZIP64 as other writers make it", () => {
  const cases: Array<[string, Parameters<typeof craftZip>]> = [
    [
      "the offset sentinel with a real entry count",
      [
        [
          { name: "a", data: text("alpha") },
          { name: "b", data: text("beta".repeat(50)), method: 8 },
        ],
        { zip64End: true, offsetSentinel: true },
      ],
    ],
    [
      "a ZIP64 extra field after another extra field",
      [
        [
          { name: "a", data: text("alpha"), zip64: ["offset"], extraBefore: TIMESTAMP_EXTRA },
          { name: "b", data: text("beta"), zip64: ["size", "compressedSize"], extraBefore: TIMESTAMP_EXTRA },
        ],
        { zip64End: true, countSentinel: true },
      ],
    ],
    [
      "only the size overflowing",
      [
        [
          { name: "a", data: text("alpha"), zip64: ["size"] },
          { name: "b", data: text("b".repeat(300)), method: 8, zip64: ["size"] },
        ],
        {},
      ],
    ],
    [
      "a local extra field longer than the central one",
      [[{ name: "a", data: text("alpha"), localExtra: new Uint8Array(100).fill(0) }], {}],
    ],
  ];
  for (const [what, args] of cases) {
    it(`reads ${what}, as Python's zipfile does`, async () => {
      const bytes = craftZip(...args);
      const file = `${tmp.dir}/${what.replace(/\W+/g, "-")}.zip`;
      await writeFile(file, bytes);
      const view = JSON.parse(await pythonView(file));
      for (const z of [new ZipStore(file), new ZipStore(bytes), new BrowserZipStore(bytes)]) {
        expect(await listAll(z)).toEqual(view.names.map((n: string) => `/${n}`).sort());
        for (const name of view.names)
          expect(Buffer.from((await z.get(`/${name}` as AbsolutePath))!).toString("latin1")).toBe(
            view.data[name],
          );
        expect(decode(await z.getRange("/a", { offset: 1, length: 3 }))).toBe("lph");
        await z.close();
      }
    });
  }

  it("reads a ZIP64 archive written by Python's zipfile (force_zip64: ZIP64 local extra fields)", async () => {
    const file = `${tmp.dir}/py-zip64.zip`;
    await python(
      `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for n, m in (('s', zipfile.ZIP_STORED), ('d', zipfile.ZIP_DEFLATED)):
        with z.open(n, 'w', force_zip64=True) as f:
            f.write(b'zip64 ' * 100)
        z.comment = b'from python'`,
      file,
    );
    const z = new ZipStore(file);
    expect(decode(await z.get("/s"))).toBe("zip64 ".repeat(100));
    expect(decode(await z.getRange("/s", { suffixLength: 6 }))).toBe("zip64 ");
    await z.close();
  });
});

describe("zip format: archive comments", () => {
  it("reads archives with comments, even one that contains an end-record signature", async () => {
    const comment = text("PK\x05\x06 looks like an end record, and is not");
    const bytes = craftZip([{ name: "a", data: text("alpha") }], { comment });
    expect(decode(await new BrowserZipStore(bytes).get("/a"))).toBe("alpha");
    const file = `${tmp.dir}/py-comment.zip`;
    await python(
      `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('k', 'v')
    z.comment = b'c' * 65535`,
      file,
    );
    expect(decode(await new ZipStore(file).get("/k"))).toBe("v");
  });

  it("writes the comment option, keeps an archive's comment when appending, and Python reads both", async () => {
    const file = `${tmp.dir}/comment.zip`;
    const z = new ZipStore(file, { mode: "w", comment: '{"ome":{"version":"0.5"}}' });
    await z.set("/zarr.json", text("{}"));
    await z.close();
    expect(JSON.parse(await pythonView(file)).comment).toBe('{"ome":{"version":"0.5"}}');
    const a = new ZipStore(file, { mode: "a" });
    await a.set("/more", text("1"));
    await a.close();
    const view = JSON.parse(await pythonView(file));
    expect(view.comment).toBe('{"ome":{"version":"0.5"}}');
    expect(view.names).toEqual(["zarr.json", "more"]);
    expect(() => new ZipStore(file, { mode: "w", comment: "x".repeat(65_536) })).toThrow(
      /at most 65,535 bytes/,
    );
  });
});

describe("zip format: damaged central directories", () => {
  const good = () =>
    craftZip([
      { name: "a", data: text("alpha") },
      { name: "bb", data: text("beta") },
    ]);
  const cd = (b: Uint8Array) => Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  const damaged: Array<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ["a broken record signature", (b) => b.fill(0, cd(b), cd(b) + 4), /central directory entry 0 is damaged/],
    [
      "a second record cut by a name length running past the directory",
      (b) => {
        const second = Buffer.from(b).indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), cd(b) + 4);
        new DataView(b.buffer).setUint16(second + 28, 60_000, true);
        return b;
      },
      /central directory entry 1 runs past the directory's end/,
    ],
    ["a directory cut short", (b) => b.slice(0, cd(b) + 20), /end of central directory record not found/],
    [
      "a ZIP64 sentinel without a ZIP64 field",
      (b) => {
        new DataView(b.buffer).setUint32(cd(b) + 42, 0xffffffff, true);
        return b;
      },
      /entry "a" has no ZIP64 field for its sizes/,
    ],
  ];
  for (const [what, damage, why] of damaged) {
    it(`${what}: a StoreError naming the archive and the problem`, async () => {
      for (const z of [new BrowserZipStore(damage(good())), new ZipStore(damage(good()))]) {
        const err = await z.get("/a").catch((e: unknown) => e);
        expect(isShardedStoreError(err, "StoreError")).toBe(true);
        expect((err as Error).message).toMatch(
          /^ZipStore\(<\d+ bytes>\): get "\/a" failed: not a valid zip: /,
        );
        expect((err as Error).message).toMatch(why);
      }
    });
  }
});

describe("zip format: the 16-bit entry count boundary", () => {
  it("65,534 entries keep the classic records; exactly 65,535 need ZIP64; unzip and Python agree", async () => {
    for (const count of [65_534, 65_535]) {
      const file = `${tmp.dir}/count-${count}.zip`;
      const z = new ZipStore(file, { mode: "w" });
      for (let i = 0; i < count; i += 5000)
        await Promise.all(
          Array.from({ length: Math.min(5000, count - i) }, (_, j) =>
            z.set(`/c/${i + j}`, new Uint8Array([(i + j) & 255])),
          ),
        );
      await z.close();
      const bytes = await readFile(file);
      expect(bytes.includes(SIG_EOCD64)).toBe(count === 65_535);
      const r = new ZipStore(file);
      expect((await listAll(r)).length).toBe(count);
      expect(await r.get(`/c/${count - 1}`)).toEqual(new Uint8Array([(count - 1) & 255]));
      await r.close();
      const { stdout } = await run("unzip", ["-l", file], { maxBuffer: 64 << 20 });
      expect(stdout.trim().split("\n").at(-1)).toMatch(new RegExp(`${count} files`));
      const py = await python(
        "import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))",
        file,
      );
      expect(py.trim()).toBe(String(count));
    }
  }, 120_000);

  it("reads exactly 65,535 entries written by Python's zipfile", async () => {
    const file = `${tmp.dir}/py-65535.zip`;
    await python(
      `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for i in range(65535):
        z.writestr(f'k/{i}', str(i))`,
      file,
    );
    const r = new ZipStore(file);
    expect((await listAll(r)).length).toBe(65_535);
    expect(decode(await r.get("/k/65534"))).toBe("65534");
    await r.close();
  }, 120_000);
});

describe("zip format: metadata first", () => {
  it("orders metadata documents first (root, then breadth-first), other entries after in their order", () => {
    const names = [
      "b/c/0",
      "zarr.json",
      "b/x/zarr.json",
      "a/.zattrs",
      "a/.zarray",
      "a/0.0",
      ".zgroup",
      "b/zarr.json",
      "a/.zmetadata",
    ];
    expect(metadataFirst(names.map((name) => ({ name }))).map((e) => e.name)).toEqual([
      "zarr.json",
      ".zgroup",
      "a/.zarray",
      "a/.zattrs",
      "a/.zmetadata",
      "b/zarr.json",
      "b/x/zarr.json",
      "b/c/0",
      "a/0.0",
    ]);
  });

  it("writes the central directory with metadata first, as Python's zipfile lists it", async () => {
    const file = `${tmp.dir}/order.zip`;
    const z = new ZipStore(file, { mode: "w" });
    for (const k of ["/g/arr/c/0/0", "/g/arr/zarr.json", "/g/zarr.json", "/zarr.json", "/g/arr/c/0/1"])
      await z.set(k as AbsolutePath, text(k));
    await z.close();
    expect(JSON.parse(await pythonView(file)).names).toEqual([
      "zarr.json",
      "g/zarr.json",
      "g/arr/zarr.json",
      "g/arr/c/0/0",
      "g/arr/c/0/1",
    ]);
  });
});
