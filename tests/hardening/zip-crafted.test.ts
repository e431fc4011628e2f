// Crafted archives that once aborted Node, exhausted memory or leaked raw RangeError text.
import { open, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { isShardedStoreError } from "../../src/errors.js";
import type { AbsolutePath } from "../../src/types.js";
import { ZipStore as BrowserZipStore } from "../../src/zip-store.js";
import { ZipStore } from "../../src/zip-store-node.js";
import { listAll } from "../helpers/arrays.js";
import { craftZip } from "../helpers/zip-craft.js";
import { run, tempDirPerFile } from "../helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-crafted-");
const GiB = 2 ** 30;

/** Offset of the first record with this signature. */
function find(bytes: Uint8Array, sig: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i++) if (v.getUint32(i, true) === sig) return i;
  throw new Error(`signature ${sig.toString(16)} not found`);
}
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
function set32(bytes: Uint8Array, at: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, value, true);
}

/** Every way to read `key`, each either a value or a tagged error; returns the error messages. */
async function tryAll(store: BrowserZipStore, key: AbsolutePath): Promise<string[]> {
  const messages: string[] = [];
  const attempts: Array<() => Promise<unknown>> = [
    () => store.get(key),
    () => store.getRange(key, { offset: 0, length: 4 }),
    () => store.getRange(key, { suffixLength: 4 }),
    () => listAll(store),
  ];
  for (const attempt of attempts) {
    try {
      await attempt();
    } catch (e) {
      expect(isShardedStoreError(e), String(e)).toBe(true);
      const m = (e as Error).message;
      expect(m).not.toMatch(/RangeError|ERR_|Array buffer allocation/);
      expect(m.length).toBeLessThan(400);
      messages.push(m);
    }
  }
  return messages;
}

/** A zip of one tiny stored entry whose central record claims `size` bytes. */
function claimingHuge(size: number, method: 0 | 8 = 0): Uint8Array {
  const bytes = craftZip([{ name: "x", data: new Uint8Array([7]), method }]);
  const cd = find(bytes, CENTRAL);
  set32(bytes, cd + 20, size);
  set32(bytes, cd + 24, size);
  return bytes;
}

describe("crafted zips", () => {
  it("a ~100-byte zip claiming a 2–4 GiB entry: a StoreError in a child process that exits normally (not 134)", async () => {
    const cases = [2 * GiB + 1, 3 * GiB, 4 * GiB - 2].flatMap((n) => [
      { n, method: 0 as const },
      { n, method: 8 as const },
    ]);
    const files: string[] = [];
    for (const [i, c] of cases.entries()) {
      const file = `${tmp.dir}/huge-${i}.zip`;
      const bytes = claimingHuge(c.n, c.method);
      expect(bytes.length).toBeLessThan(120);
      await writeFile(file, bytes);
      files.push(file);
    }
    const script = `
      import { readFileSync } from "node:fs";
      import { ZipStore } from ${JSON.stringify(path.resolve("src/zip-store-node.ts"))};
      import { ZipStore as Iso } from ${JSON.stringify(path.resolve("src/zip-store.ts"))};
      for (const file of ${JSON.stringify(files)}) {
        for (const z of [new ZipStore(file), new Iso(readFileSync(file))]) {
          for (const op of [() => z.get("/x"), () => z.getRange("/x", { offset: 2 ** 31, length: 10 })]) {
            try { await op(); console.log("READ"); } catch (e) { console.log(e.tag, e.message); }
          }
          await z.close();
        }
      }
    `;
    await writeFile(`${tmp.dir}/huge.mts`, script);
    const res = await run(process.execPath, ["--import", "tsx", `${tmp.dir}/huge.mts`]);
    const lines = res.stdout.trim().split("\n");
    expect(lines.length).toBe(cases.length * 4);
    for (const line of lines) {
      expect(line).toMatch(/^StoreError ZipStore\(.*\): (get|getRange) "\/x" failed: not a valid zip: /);
      expect(line).toMatch(/entry "x" .*(lies beyond the archive's data|more than deflate can produce)/);
    }
  });

  it("reads a stored entry of more than 2 GiB (a sparse file) in pieces, in a child process", async () => {
    const file = `${tmp.dir}/sparse.zip`;
    const size = 2 * GiB + 16;
    // Local header, a hole of `size` zero bytes, then the central directory and end record.
    const head = craftZip([{ name: "big", data: new Uint8Array(0) }]);
    const local = head.subarray(0, 30 + 3);
    set32(local, 18, size);
    set32(local, 22, size);
    const tail = craftZip([{ name: "big", data: new Uint8Array(0) }]).slice(33);
    const cd = find(tail, CENTRAL);
    set32(tail, cd + 20, size);
    set32(tail, cd + 24, size);
    set32(tail, tail.length - 6, 33 + size); // the end record's central directory offset
    const fh = await open(file, "w");
    await fh.write(local, 0, local.length, 0);
    await fh.write(tail, 0, tail.length, 33 + size);
    await fh.close();
    const script = `
      import { ZipStore } from ${JSON.stringify(path.resolve("src/zip-store-node.ts"))};
      const z = new ZipStore(${JSON.stringify(file)});
      const v = await z.get("/big");
      console.log(v.length, v.byteOffset, v.buffer.byteLength, v[0] + v[v.length - 1]);
      await z.close();
    `;
    await writeFile(`${tmp.dir}/sparse.mts`, script);
    const res = await run(process.execPath, ["--import", "tsx", `${tmp.dir}/sparse.mts`]);
    expect(res.stdout.trim()).toBe(`${size} 0 ${size} 0`);
  });

  it("a deflated entry claiming 100 bytes that inflates to 96 MiB: StoreError in both stores, memory stays flat", async () => {
    const bytes = craftZip([{ name: "bomb", data: new Uint8Array(96 << 20), method: 8 }]);
    expect(bytes.length).toBeLessThan(1 << 20);
    const cd = find(bytes, CENTRAL);
    const local = find(bytes, LOCAL);
    set32(bytes, cd + 24, 100);
    set32(bytes, local + 22, 100);
    const file = `${tmp.dir}/bomb.zip`;
    await writeFile(file, bytes);
    const before = process.memoryUsage().rss;
    for (const z of [new ZipStore(file), new ZipStore(bytes), new BrowserZipStore(bytes)]) {
      await expect(z.get("/bomb")).rejects.toThrow(
        /get "\/bomb" failed: not a valid zip: entry "bomb" inflates to more than 100 bytes/,
      );
      await expect(z.getRange("/bomb", { offset: 0, length: 10 })).rejects.toThrow(
        /inflates to more than 100 bytes/,
      );
      await z.close();
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });

  it("a deflated entry that inflates to fewer bytes than declared: StoreError, never short data", async () => {
    const bytes = craftZip([{ name: "short", data: new Uint8Array(500).fill(3), method: 8 }]);
    set32(bytes, find(bytes, CENTRAL) + 24, 1000);
    for (const z of [new ZipStore(bytes), new BrowserZipStore(bytes)]) {
      await expect(z.get("/short")).rejects.toThrow(/entry "short" inflates to 500 bytes, not 1000/);
    }
  });

  it("a ZIP64 end record claiming a 1 PiB central directory or 2^63 entries: StoreError, no RangeError", async () => {
    const base = craftZip([{ name: "a", data: new Uint8Array([1]) }], {
      zip64End: true,
      countSentinel: true,
    });
    const end64 = find(base, 0x06064b50);
    const cases: Array<[number, bigint, RegExp]> = [
      [40, 2n ** 50n, /central directory \(\d+ bytes at \d+\) lies beyond the end of the file/],
      [48, 2n ** 50n, /lies beyond the end of the file/],
      [32, 2n ** 63n, /ZIP64 entry count \d+ is beyond any real file/],
      [32, 2n ** 40n, /entries cannot fit a central directory of \d+ bytes/],
    ];
    for (const [field, value, why] of cases) {
      const bytes = base.slice();
      new DataView(bytes.buffer).setBigUint64(end64 + field, value, true);
      for (const z of [new ZipStore(bytes), new BrowserZipStore(bytes)]) {
        const messages = await tryAll(z, "/a");
        expect(messages.length).toBe(4);
        for (const m of messages) expect(m).toMatch(why);
      }
    }
  });

  it("a ZIP64 locator pointing past the file, and entry offsets and counts beyond it: StoreError naming what", async () => {
    const base = craftZip([{ name: "a", data: new Uint8Array([1, 2, 3]) }], {
      zip64End: true,
      countSentinel: true,
    });
    const locator = find(base, 0x07064b50);
    const far = base.slice();
    new DataView(far.buffer).setBigUint64(locator + 8, 2n ** 52n, true);
    expect((await tryAll(new BrowserZipStore(far), "/a"))[0]).toMatch(
      /ZIP64 end record \(at \d+\) lies beyond/,
    );

    const offset = craftZip([{ name: "a", data: new Uint8Array([1, 2, 3]), zip64: ["offset"] }]);
    const z64 = find(offset, CENTRAL) + 46 + 1 + 4; // the ZIP64 field's value
    new DataView(offset.buffer).setBigUint64(z64, 2n ** 45n, true);
    expect((await tryAll(new BrowserZipStore(offset), "/a"))[0]).toMatch(
      /entry "a" .*lies beyond the archive's data/,
    );

    const count = craftZip([{ name: "a", data: new Uint8Array([1]) }]);
    new DataView(count.buffer).setUint16(count.length - 12, 60_000, true);
    expect((await tryAll(new BrowserZipStore(count), "/a"))[0]).toMatch(/60000 entries cannot fit/);
  });
});
