// The bulk path of a conversion: a small store read whole (direct calls for a DirectoryStore, its
// symlink checks kept), written as one zip, folder syncs shared by concurrent writers.
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSmallStore } from "../src/copy-store.js";
import { syncDirectory } from "../src/dir-sync.js";
import { MemoryStore, ZipStore } from "../src/index.js";
import { DirectoryStore } from "../src/node.js";
import { readSmallStoreNode } from "../src/read-small-node.js";
import type { AbsolutePath } from "../src/types.js";
import { writeZipFile } from "../src/zip-file-write.js";
import { ZipStore as NodeZipStore } from "../src/zip-store-node.js";
import { python } from "./helpers/python.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "convert-bulk-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const enc = new TextEncoder();
const hex = (b: Uint8Array | undefined) => (b === undefined ? "missing" : Buffer.from(b).toString("hex"));
const asObject = (values: ReadonlyArray<readonly [AbsolutePath, Uint8Array]> | null) =>
  values === null ? null : values.map(([k, v]) => [k, hex(v)]);

/** A directory store with metadata at several depths and chunks, written through the store. */
async function sample(root: string): Promise<DirectoryStore> {
  const s = new DirectoryStore(root);
  await s.set("/a/b/.zarray", enc.encode('{"zarr_format":2}'));
  await s.set("/a/b/0.0", Uint8Array.of(1, 2, 3));
  await s.set("/a/.zgroup", enc.encode('{"zarr_format":2}'));
  await s.set("/.zgroup", enc.encode('{"zarr_format":2}'));
  await s.set("/a/b/1.0", new Uint8Array(70_000).fill(9)); // past the direct-write size
  await s.set("/c/zarr.json", enc.encode('{"zarr_format":3,"node_type":"group"}'));
  return s;
}

describe("readSmallStoreNode", () => {
  it("reads a DirectoryStore the way readSmallStore reads it through get(), confined or not, metadata first", async () => {
    const root = path.join(dir, "same");
    await sample(root);
    for (const confine of [false, true]) {
      const store = new DirectoryStore(root, { confine });
      const fast = await readSmallStoreNode(store, { maxKeys: 100, maxBytes: 1 << 20 });
      const generic = await readSmallStore(store, { maxKeys: 100, maxBytes: 1 << 20 });
      expect(asObject(fast)).toEqual(asObject(generic));
      expect(fast!.slice(0, 4).map(([k]) => k)).toEqual([
        "/.zgroup",
        "/a/.zgroup",
        "/c/zarr.json",
        "/a/b/.zarray",
      ]);
      expect(fast!.length).toBe(6);
    }
  });

  it("reads a zip file whole the way readSmallStore reads it through the store, in any mode; errors name the file", async () => {
    const d = await sample(path.join(dir, "zip-src"));
    const file = path.join(dir, "whole.zarr.zip");
    const w = new NodeZipStore(file, { mode: "w" });
    for await (const k of d.list()) await w.set(k, (await d.get(k))!);
    await w.close();
    for (const mode of ["r", "a"] as const) {
      const z = new NodeZipStore(file, { mode });
      expect(z.writing).toBe(false);
      const fast = await readSmallStoreNode(z, { maxKeys: 100, maxBytes: 1 << 20 });
      expect(asObject(fast)).toEqual(asObject(await readSmallStore(z, { maxKeys: 100, maxBytes: 1 << 20 })));
      expect(fast!.length).toBe(6);
      // Past the limits: null, as through the store.
      expect(await readSmallStoreNode(z, { maxKeys: 5, maxBytes: 1 << 20 })).toBeNull();
      expect(await readSmallStoreNode(z, { maxKeys: 100, maxBytes: 60_000 })).toBeNull();
      await z.close();
    }
    // An open write session: its values are not in the file yet; the store itself is read.
    const a = new NodeZipStore(file, { mode: "a" });
    await a.set("/extra" as AbsolutePath, Uint8Array.of(5));
    expect(a.writing).toBe(true);
    const withExtra = await readSmallStoreNode(a, { maxKeys: 100, maxBytes: 1 << 20 });
    expect(withExtra!.find(([k]) => k === "/extra")?.[1]).toEqual(Uint8Array.of(5));
    await a.discard();
    // A file that is not a zip: the error names it.
    const bad = path.join(dir, "bad.zarr.zip");
    await writeFile(bad, "not a zip at all");
    await expect(
      readSmallStoreNode(new NodeZipStore(bad), { maxKeys: 10, maxBytes: 1 << 20 }),
    ).rejects.toThrow(`ZipStore(${bad})`);
  });

  it("gives null past maxKeys or maxBytes, for a DirectoryStore and for any other store", async () => {
    const root = path.join(dir, "limits");
    const d = await sample(root);
    const m = new MemoryStore();
    for await (const k of d.list()) await m.set(k, (await d.get(k))!);
    for (const store of [d, m]) {
      const read = store === d ? readSmallStoreNode : readSmallStore;
      expect(await read(store, { maxKeys: 5, maxBytes: 1 << 20 })).toBeNull();
      expect(await read(store, { maxKeys: 6, maxBytes: 70_000 })).toBeNull();
      expect((await read(store, { maxKeys: 6, maxBytes: 71_000 }))?.length).toBe(6);
    }
  });

  it("refuses, naming the key, a read through a symlink out of a confined store's root; follows one inside", async () => {
    const outside = path.join(dir, "outside");
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, "secret"), "s3cr3t");
    const root = path.join(dir, "confined");
    await sample(root);
    await symlink(path.join(root, "a/b/0.0"), path.join(root, "inside-link"));
    const ok = await readSmallStoreNode(new DirectoryStore(root, { confine: true }), {
      maxKeys: 100,
      maxBytes: 1 << 20,
    });
    expect(ok!.find(([k]) => k === "/inside-link")?.[1]).toEqual(Uint8Array.of(1, 2, 3));
    for (const [link, target, key] of [
      ["file-out", path.join(outside, "secret"), "/file-out"],
      ["dir-out", outside, "/dir-out/secret"],
    ] as const) {
      const r = path.join(dir, `escape-${link}`);
      await sample(r);
      await symlink(target, path.join(r, link));
      // A symlinked folder is not listed by list(); a listing that had its key (a race) is refused too.
      class Listed extends DirectoryStore {
        override async *list(): AsyncIterable<AbsolutePath> {
          // (list() gives the symlinked folder itself as a key; keep only the key inside it.)
          for await (const k of super.list()) if (k !== "/dir-out") yield k;
          if (link === "dir-out") yield key as AbsolutePath;
        }
      }
      const store = new Listed(r, { confine: true });
      await expect(readSmallStoreNode(store, { maxKeys: 100, maxBytes: 1 << 20 })).rejects.toThrow(
        new RegExp(`${key.replace("/", "\\/")}.*leads outside the store's root`),
      );
      // The unconfined store follows it, as zarr-python does.
      const free = await readSmallStoreNode(new DirectoryStore(r), { maxKeys: 100, maxBytes: 1 << 20 });
      if (link === "file-out")
        expect(hex(free!.find(([k]) => k === key)?.[1])).toBe(hex(enc.encode("s3cr3t")));
    }
  });
});

describe("writeZipFile", () => {
  it("writes what a ZipStore and Python's zipfile read back, metadata first, leaving no temporary file", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          fc.tuple(
            fc.constantFrom("", "a/", "a/b/", "c/"),
            fc.constantFrom(".zarray", ".zgroup", ".zattrs", "zarr.json", "0", "0.1", "2/3", "x"),
          ),
          { minLength: 0, maxLength: 12, selector: ([p, n]) => p + n },
        ),
        fc.integer({ min: 0, max: 300 }),
        async (names, size) => {
          const folder = await mkdtemp(path.join(dir, "zip-"));
          const file = path.join(folder, "s.zarr.zip");
          const values = names.map(
            ([p, n], i) =>
              [
                `/${p}${n}` as AbsolutePath,
                Uint8Array.from({ length: size + i }, (_, k) => (k * 7 + i) & 255),
              ] as const,
          );
          await writeZipFile(file, values);
          expect(await readdir(folder)).toEqual(["s.zarr.zip"]);
          const zip = new NodeZipStore(file);
          const keys: string[] = [];
          for await (const k of zip.list()) keys.push(k);
          expect(keys.sort()).toEqual(values.map(([k]) => k).sort());
          for (const [k, v] of values) expect(hex(await zip.get(k))).toBe(hex(v));
          await zip.close();
          await rm(folder, { recursive: true });
        },
      ),
      { numRuns: 25 },
    );
    const file = path.join(dir, "py.zarr.zip");
    await writeZipFile(file, [
      ["/0.0", Uint8Array.of(5)],
      ["/a/.zarray", enc.encode("{}")],
      ["/.zgroup", enc.encode("{}")],
    ]);
    const out = await python(
      "import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); print(json.dumps([z.testzip(), z.namelist(), z.read('0.0').hex()]))",
      file,
    );
    expect(JSON.parse(out)).toEqual([null, [".zgroup", "a/.zarray", "0.0"], "05"]);
    // Read through the isomorphic reader too (from the bytes).
    const { readFile } = await import("node:fs/promises");
    expect(hex(await new ZipStore(new Uint8Array(await readFile(file))).get("/a/.zarray"))).toBe(
      hex(enc.encode("{}")),
    );
  });

  it("leaves nothing when the folder does not exist, and the error names the path", async () => {
    const file = path.join(dir, "no/such/folder/s.zarr.zip");
    await expect(writeZipFile(file, [["/0", Uint8Array.of(1)]])).rejects.toThrow(/ENOENT.*no\/such\/folder/);
  });
});

describe("syncDirectory", () => {
  it("resolves every one of many concurrent calls over several folders, and rejects for a missing folder", async () => {
    const folders = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const f = path.join(dir, `sync-${i}`);
        await mkdir(f, { recursive: true });
        return f;
      }),
    );
    let resolved = 0;
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        await writeFile(path.join(folders[i % 3]!, `f${i}`), "x");
        await syncDirectory(folders[i % 3]!);
        resolved++;
      }),
    );
    expect(resolved).toBe(200);
    await expect(syncDirectory(path.join(dir, "missing-folder"))).rejects.toThrow(/ENOENT/);
    // A folder that failed can be synced once it exists.
    await mkdir(path.join(dir, "missing-folder"));
    await expect(syncDirectory(path.join(dir, "missing-folder"))).resolves.toBeUndefined();
  });
});
