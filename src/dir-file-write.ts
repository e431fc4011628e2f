// Writes a whole small directory store in one go into a new folder: the bulk path of a conversion
// to directories, where a `DirectoryStore` write per value (a temporary file, a rename, four hand-offs
// to Node's thread pool) costs more than the data.
import { closeSync, mkdir, open, writeSync } from "node:fs";
import * as path from "node:path";
import { TMP_MARK } from "./directory-store.js";
import { InvalidKeyError, StoreError } from "./errors.js";
import { assertValidKey } from "./keys.js";
import type { AbsolutePath } from "./types.js";

// Callback forms: a bare descriptor, no FileHandle (which would close it again when collected).
const openNew = (file: string) =>
  new Promise<number>((resolve, reject) => open(file, "wx", (e, fd) => (e ? reject(e) : resolve(fd))));
const mkdirs = (dir: string) =>
  new Promise<void>((resolve, reject) => mkdir(dir, { recursive: true }, (e) => (e ? reject(e) : resolve())));

/**
 * Writes `values` (key → bytes) as files under the folder `root`, which must not exist yet or be
 * empty and is the caller's alone (a temporary folder it renames into place once this resolves):
 * each file is created exclusively (`wx`: nothing is written through a symlink or over a file)
 * and written whole, no temporary file per value — the folder is the unit the caller makes appear
 * atomically. Keys are checked as a `DirectoryStore` checks them (an invalid key or one naming a
 * temporary file throws an {@link InvalidKeyError} naming `root`), so nothing is written outside
 * `root`. No fsync: a `DirectoryStore` write makes none either. The create and folder creations
 * wait in Node's thread pool; the writes and closes are direct calls (they land in the page cache).
 *
 * @example
 * ```ts
 * await writeDirectoryFiles("out/a.zarr.~partial-1f2e", [["/.zarray", meta], ["/0", chunk]]);
 * ```
 */
export async function writeDirectoryFiles(
  root: string,
  values: ReadonlyArray<readonly [AbsolutePath, Uint8Array]>,
): Promise<void> {
  const where = `DirectoryStore(${root})`;
  for (const [key] of values) {
    assertValidKey(key, where);
    if (key.includes(`/${TMP_MARK}`))
      throw new InvalidKeyError(
        key,
        `names starting with "${TMP_MARK}" are reserved for temporary files`,
        where,
      );
  }
  const made = new Set<string>();
  for (const [key, value] of values) {
    const file = root + key;
    const dir = path.dirname(file);
    try {
      if (!made.has(dir)) {
        await mkdirs(dir);
        made.add(dir);
      }
      const fd = await openNew(file);
      try {
        for (let done = 0; done < value.byteLength; )
          done += writeSync(fd, value, done, value.byteLength - done, done);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw new StoreError(where, "set", key, e);
    }
  }
}
