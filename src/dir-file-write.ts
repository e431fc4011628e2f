// Writes a whole small directory store in one go into a new folder: the bulk path of a conversion
// to directories, where a `DirectoryStore` write per value (a temporary file, a rename, four hand-offs
// to Node's thread pool) costs more than the data.
import { closeSync, mkdirSync, openSync } from "node:fs";
import * as path from "node:path";
import { TMP_MARK } from "./directory-store.js";
import { InvalidKeyError, StoreError } from "./errors.js";
import { writeFullySync } from "./fd-io.js";
import { assertValidKey } from "./keys.js";
import type { AbsolutePath } from "./types.js";

/**
 * Writes `values` (key → bytes) as files under the folder `root`, which must not exist yet or be
 * empty and is the caller's alone (a temporary folder it renames into place once this resolves):
 * each file is created exclusively (`wx`: nothing is written through a symlink or over a file)
 * and written whole, no temporary file per value — the folder is the unit the caller makes appear
 * atomically. Keys are checked as a `DirectoryStore` checks them (an invalid key or one naming a
 * temporary file throws an {@link InvalidKeyError} naming `root`), so nothing is written outside
 * `root`. No fsync: a `DirectoryStore` write makes none either. Direct system calls throughout:
 * without fsyncs there is no journal commit of ours to wait for, and a hand-off to Node's thread
 * pool per file costs more than the call (bench/convert-scale.mjs).
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
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      const fd = openSync(file, "wx");
      try {
        writeFullySync(fd, value);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw new StoreError(where, "set", key, e);
    }
  }
}
