// Reading a small source store whole, for the bulk writers of a conversion: a DirectoryStore's
// files are read with direct system calls (through Node's thread pool each small
// file costs four hand-offs, more than the reads: bench/convert-scale.mjs); any other store
// through its own `get`.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from "node:fs";
import * as path from "node:path";
import { keysMetadataFirst, readSmallStore } from "./copy-store.js";
import { DirectoryStore } from "./directory-store.js";
import { ShardedStoreError, StoreError } from "./errors.js";
import type { AbsolutePath, Store } from "./types.js";

const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);
const NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);
const code = (e: unknown) => String((e as { code?: unknown } | null)?.code ?? "");

/** A read through a symlink that leads out of a confined store's root. */
class Escape extends Error {}

/**
 * How a confined `DirectoryStore` reads, with direct calls: a file's folder must be inside the
 * root by real path, and a symlinked file must lead inside it (as `DirectoryStore.get` checks).
 */
class Confinement {
  readonly #root: string;
  readonly #realRoot: string;
  readonly #inside = new Set<string>();
  constructor(root: string) {
    this.#root = root;
    this.#realRoot = realpathSync.native(root);
  }
  #within(real: string): boolean {
    return real === this.#realRoot || real.startsWith(this.#realRoot + path.sep);
  }
  #escape(at: string, real: string): Escape {
    const rel = path.relative(this.#root, at) || ".";
    return new Escape(`"${rel}" is a symlink that leads outside the store's root (to ${real})`);
  }
  /** Throws {@link Escape} unless folder `dir` is inside the root by real path. */
  checkDir(dir: string): void {
    if (dir === this.#root || this.#inside.has(dir)) return;
    const real = realpathSync.native(dir);
    if (!this.#within(real)) throw this.#escape(dir, real);
    this.#inside.add(dir);
  }
  /** After a no-follow open met a symlink: throws {@link Escape} unless its target is inside. */
  checkLink(file: string): void {
    const real = realpathSync.native(file);
    if (!this.#within(real)) throw this.#escape(file, real);
  }
}

function openFile(file: string, confined: Confinement | null): number {
  if (confined === null) return openSync(file, "r");
  confined.checkDir(path.dirname(file));
  try {
    return openSync(file, NO_FOLLOW);
  } catch (e) {
    if (code(e) !== "ELOOP") throw e;
    confined.checkLink(file);
    return openSync(file, "r");
  }
}

/** The bytes of `file`, `undefined` when it is missing, `null` when it has more than `room` bytes. */
function readFileUpTo(
  file: string,
  room: number,
  confined: Confinement | null,
): Uint8Array | undefined | null {
  let fd: number;
  try {
    fd = openFile(file, confined);
  } catch (e) {
    if (MISSING.has(code(e))) return undefined;
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    if (size > room) return null;
    const buf = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const n = readSync(fd, buf, filled, size - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return filled === size ? buf : buf.slice(0, filled);
  } catch (e) {
    if (MISSING.has(code(e))) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * {@link readSmallStore} for Node: the same result (every value, metadata first; `null` past
 * `maxKeys` keys or `maxBytes` bytes), with a `DirectoryStore`'s files read by direct system
 * calls after one listing through its `list()` (a confined store's symlink checks included).
 *
 * @example
 * ```ts
 * const values = await readSmallStoreNode(new DirectoryStore("a.zarr"), { maxKeys: 4096, maxBytes: 1 << 20 });
 * ```
 */
export async function readSmallStoreNode(
  from: Store,
  limits: { maxKeys: number; maxBytes: number; signal?: AbortSignal },
): Promise<Array<readonly [AbsolutePath, Uint8Array]> | null> {
  if (!(from instanceof DirectoryStore)) return readSmallStore(from, limits);
  const keys = await keysMetadataFirst(from, limits.maxKeys);
  if (keys === null) return null;
  let confined: Confinement | null = null;
  if (from.confine && keys.length > 0) {
    try {
      confined = new Confinement(from.root);
    } catch (e) {
      throw new StoreError(String(from), "get", "/", e);
    }
  }
  const out: Array<readonly [AbsolutePath, Uint8Array]> = [];
  let room = limits.maxBytes;
  for (const key of keys) {
    if (limits.signal?.aborted)
      throw new ShardedStoreError("StoreError", "copy aborted", { cause: limits.signal.reason });
    let value: Uint8Array | undefined | null;
    try {
      value = readFileUpTo(from.root + key, room, confined);
    } catch (e) {
      throw new StoreError(String(from), "get", key, e instanceof Escape ? e.message : e);
    }
    if (value === null) return null;
    if (value === undefined) continue; // deleted while we listed
    room -= value.byteLength;
    out.push([key, value]);
  }
  return out;
}
