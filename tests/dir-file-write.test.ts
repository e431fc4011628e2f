// The bulk writer of a conversion to directories: a small store written file by file into a new
// folder reads back exactly as the values given, through a DirectoryStore; bad keys and an existing
// file or symlink are refused with a tagged error and nothing is written outside the folder.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDirectoryFiles } from "../src/dir-file-write.js";
import { InvalidKeyError, StoreError } from "../src/errors.js";
import { DirectoryStore } from "../src/node.js";
import type { AbsolutePath } from "../src/types.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "dir-file-write-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hex = (b: Uint8Array | undefined) => (b === undefined ? "missing" : Buffer.from(b).toString("hex"));

/** Every key of a DirectoryStore with its bytes, sorted. */
async function contents(store: DirectoryStore): Promise<Array<[string, string]>> {
  const keys: string[] = [];
  for await (const k of store.list()) keys.push(k);
  keys.sort();
  const out: Array<[string, string]> = [];
  for (const k of keys) out.push([k, hex(await store.get(k as AbsolutePath))]);
  return out;
}

let n = 0;
const fresh = () => path.join(dir, `out-${n++}`, "store.zarr.~partial-test");

describe("writeDirectoryFiles", () => {
  it("writes any set of valid keys (nested folders, empty values) that a DirectoryStore reads back equal", async () => {
    const segment = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,6}$/);
    const key = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join("/")}`);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(key, fc.uint8Array({ maxLength: 40 })), {
          selector: ([k]) => k,
          maxLength: 12,
        }),
        async (pairs) => {
          // A key that is a folder of another cannot be a file too (in a directory store or here).
          const keys = new Set(pairs.map(([k]) => k));
          const values = pairs.filter(([k]) => ![...keys].some((o) => o.startsWith(`${k}/`)));
          const root = fresh();
          await writeDirectoryFiles(root, values as Array<[AbsolutePath, Uint8Array]>);
          const expected = values
            .map(([k, v]) => [k, hex(v)] as [string, string])
            .sort(([a], [b]) => (a < b ? -1 : 1));
          expect(await contents(new DirectoryStore(root))).toEqual(expected);
          await rm(path.dirname(root), { recursive: true, force: true });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("writes nothing for no values (the caller's rename then finds no folder)", async () => {
    const root = fresh();
    await writeDirectoryFiles(root, []);
    expect(existsSync(root)).toBe(false);
  });

  it("refuses invalid keys and temporary-file names before writing anything, naming the key", async () => {
    for (const bad of ["/../escape", "/a/./b", "/a//b", "no-slash", "/a\\b", "/x/.~ss-tmp"]) {
      const root = fresh();
      const write = writeDirectoryFiles(root, [
        ["/ok" as AbsolutePath, Uint8Array.of(1)],
        [bad as AbsolutePath, Uint8Array.of(2)],
      ]);
      await expect(write).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(write).rejects.toThrow(JSON.stringify(bad));
      expect(existsSync(root)).toBe(false);
      expect(existsSync(path.join(path.dirname(root), "escape"))).toBe(false);
    }
  });

  it("never writes through a symlink or over a file already in the folder: a StoreError naming the key", async () => {
    const outside = path.join(dir, "outside");
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, "target"), "untouched");
    const root = fresh();
    await mkdir(root, { recursive: true });
    await symlink(path.join(outside, "target"), path.join(root, "link"));
    await writeFile(path.join(root, "there"), "old");
    for (const key of ["/link", "/there"]) {
      const write = writeDirectoryFiles(root, [[key as AbsolutePath, Uint8Array.of(9)]]);
      await expect(write).rejects.toBeInstanceOf(StoreError);
      await expect(write).rejects.toThrow(key);
    }
    expect(await readdir(outside)).toEqual(["target"]);
    expect(hex(await new DirectoryStore(outside).get("/target" as AbsolutePath))).toBe(
      Buffer.from("untouched").toString("hex"),
    );
    expect(hex(await new DirectoryStore(root).get("/there" as AbsolutePath))).toBe(
      Buffer.from("old").toString("hex"),
    );
  });
});
