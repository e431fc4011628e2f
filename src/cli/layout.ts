import { randomBytes } from "node:crypto";
import { access, readdir, rename, rm } from "node:fs/promises";
import * as path from "node:path";
import type { ShardTransform, Store } from "../node.js";
import { arrayShardDirectoryStore, copyStore, DirectoryStore } from "../node.js";
import { UsageError } from "./errors.js";

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

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

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
 * shards already done and never trusts a half-copied one.
 *
 * @example
 * ```ts
 * const dirs = await zipped.mapShards(toDirectoryStoreWithPrefix("out/data"));
 * ```
 */
export function toDirectoryStoreWithPrefix(prefix: string): ShardTransform {
  const fn: ShardTransform = async (store, mount, index, ctx) => {
    const target = dirPathFor(prefix, mount, index);
    if (await exists(target)) {
      const done = new DirectoryStore(target);
      const same = await sameKeys(store, done);
      if (same !== null) {
        ctx.skipped();
        ctx.reportKeys?.(same);
        return done;
      }
      await rm(target, { recursive: true, force: true });
    }
    const tmp = `${target}.~partial-${randomBytes(4).toString("hex")}`;
    try {
      const { keys } = await copyStore(store, new DirectoryStore(tmp), {
        onBytes: ctx.reportBytes,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      ctx.reportKeys?.(keys);
      await rename(tmp, target).catch(async (e: unknown) => {
        // An empty source makes no directory.
        if ((e as { code?: string }).code !== "ENOENT") throw e;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
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
