import { randomBytes } from "node:crypto";
import { renameSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import * as path from "node:path";
import { writeDirectoryFiles } from "../dir-file-write.js";
import type { ShardTransform, Store } from "../node.js";
import { arrayShardDirectoryStore, copyStore, DirectoryStore } from "../node.js";
import { outputFolders } from "../output-folders.js";
import { readSmallStoreNode } from "../read-small-node.js";
import { UsageError } from "./errors.js";

/** Temporary folder names: a random run id (drawn once) and a counter. */
const RUN = randomBytes(4).toString("hex");
let serial = 0;

/** A store up to this many keys and bytes is read whole and written in one go (as zips are). */
const SMALL_KEYS = 4096;
const SMALL_BYTES = 1 << 20;

/** The config file every command that writes a composition writes into its `--out` folder. */
export const CONFIG_NAME = "composition.json";
/** The prefix of the stores in an `--out` folder: `data.zarr`, `data/people.zarr`, … */
export const PREFIX_NAME = "data";

/**
 * The directory a shard becomes under `prefix`: base → `prefix.zarr`, group `p` → `prefix/p.zarr`,
 * array `p` index `[i, j]` → `prefix/p/i/j.zarr` (the same layout as the zip shards).
 *
 * @example
 * ```ts
 * dirPathFor("/out/data", "people"); // "/out/data/people.zarr"
 * ```
 */
export function dirPathFor(prefix: string, mount: string, index?: readonly number[]): string {
  const root = path.resolve(prefix);
  if (mount === "") return `${root}.zarr`;
  if (index === undefined) return `${root}/${mount}.zarr`;
  return `${root}/${mount}/${index.join("/")}.zarr`;
}

/**
 * The path of a shard's store below an output folder or prefix (see {@link dirPathFor}), with
 * `.zip` for a zip: base → `data.zarr`, group `p` → `data/p.zarr`, array `p` index `[i, j]` →
 * `data/p/i/j.zarr`.
 *
 * @example
 * ```ts
 * relPathFor("sim/foo", [1, 2], true); // "data/sim/foo/1/2.zarr.zip"
 * ```
 */
export function relPathFor(mount: string, index: readonly number[] | undefined, zip: boolean): string {
  const p =
    mount === ""
      ? `${PREFIX_NAME}.zarr`
      : index === undefined
        ? `${PREFIX_NAME}/${mount}.zarr`
        : `${PREFIX_NAME}/${mount}/${index.join("/")}.zarr`;
  return zip ? `${p}.zip` : p;
}

/** The number of keys `a` and `b` both hold, or `null` when they do not hold the same keys. */
async function sameKeys(a: Store, b: Store): Promise<number | null> {
  const keys = new Set<string>();
  for await (const k of a.list!("/")) keys.add(k);
  let n = 0;
  for await (const k of b.list!("/")) {
    if (!keys.has(k)) return null;
    n++;
  }
  return n === keys.size ? n : null;
}

/**
 * The shard transformation to directory stores (the inverse of `toZipStoreWithPrefix`): each shard is
 * copied into a temporary directory that is renamed into place when complete, so a rerun skips the
 * shards already done and never trusts a half-copied one. A small shard (up to 4,096 keys and
 * 1 MiB) is read whole and written file by file into that folder (see `writeDirectoryFiles`); a
 * bigger one through a `DirectoryStore`. Like a `DirectoryStore` write, nothing is fsynced: a kill
 * leaves complete folders only, a power cut may not.
 *
 * @example
 * ```ts
 * const dirs = await zipped.mapShards(toDirectoryStoreWithPrefix("out/data"));
 * ```
 */
export function toDirectoryStoreWithPrefix(prefix: string): ShardTransform {
  const folder = outputFolders();
  const fn: ShardTransform = async (store, mount, index, ctx) => {
    const target = dirPathFor(prefix, mount, index);
    if ((await folder(path.dirname(target))).has(path.basename(target))) {
      const done = new DirectoryStore(target);
      const same = await sameKeys(store, done);
      if (same !== null) {
        ctx.skipped();
        ctx.reportKeys?.(same);
        return done;
      }
      await rm(target, { recursive: true, force: true });
    }
    const tmp = `${target}.~partial-${RUN}-${(serial++).toString(36)}`;
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    try {
      // A small store (the usual shard) read whole and written file by file into the new folder.
      const values = await readSmallStoreNode(store, {
        maxKeys: SMALL_KEYS,
        maxBytes: SMALL_BYTES,
        ...signal,
      });
      if (values !== null) {
        await writeDirectoryFiles(tmp, values);
        for (const [, v] of values) ctx.reportBytes(v.byteLength);
        ctx.reportKeys?.(values.length);
      } else {
        const { keys } = await copyStore(store, new DirectoryStore(tmp), {
          onBytes: ctx.reportBytes,
          ...signal,
        });
        ctx.reportKeys?.(keys);
      }
      try {
        renameSync(tmp, target);
      } catch (e) {
        // An empty source makes no directory.
        if ((e as { code?: string }).code !== "ENOENT") throw e;
      }
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    return new DirectoryStore(target);
  };
  fn.arrayShardFactory = (mount) => arrayShardDirectoryStore(path.join(path.resolve(prefix), mount));
  return fn;
}

/**
 * Refuses an output path that already holds something (so no command overwrites data by accident).
 *
 * @example
 * ```ts
 * await ensureEmpty("out", "--out");
 * ```
 */
export async function ensureEmpty(p: string, what: string): Promise<void> {
  const entries = await readdir(p).catch((e: { code?: string }) => {
    if (e.code === "ENOENT") return [];
    if (e.code === "ENOTDIR") throw new UsageError(`${what} ${p} exists and is not a directory`);
    throw e;
  });
  if (entries.length > 0) throw new UsageError(`${what} ${p} is not empty; choose a new folder`);
}
