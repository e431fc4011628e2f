// Reading a small source store whole, for the bulk writers of a conversion: a DirectoryStore's
// files are read with direct system calls (through Node's thread pool each small
// file costs four hand-offs, more than the reads: bench/convert-scale.mjs); any other store
// through its own `get`.
import { closeSync, constants, type Dirent, fstatSync, openSync, readdirSync, realpathSync } from "node:fs";
import * as path from "node:path";
import { keysMetadataFirst, readSmallStore } from "./copy-store.js";
import { DirectoryStore, TMP_MARK } from "./directory-store.js";
import { ShardedStoreError, StoreError } from "./errors.js";
import { readFullySync } from "./fd-io.js";
import { compareMetadataKeys, isMetadataDocument } from "./metadata-keys.js";
import type { AbsolutePath, Store } from "./types.js";
import { ZipStore } from "./zip-store-node.js";

/** Archive bytes allowed beyond `maxBytes` of values when a zip is read whole (headers, directory). */
const ZIP_SLACK = 64 << 10;

/** A zip archive read from its bytes in memory, its errors naming the file it came from. */
class WholeZip extends ZipStore {
  constructor(bytes: Uint8Array, label: string) {
    super(bytes);
    this.source = { ...this.source, label };
  }
}

/** The bytes of the file `file` when it has at most `room` bytes, else `null`; `undefined` if missing. */
function readWholeUpTo(file: string, room: number): Uint8Array | null | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined; // the store's own read reports it
  }
  try {
    return readOpenUpTo(fd, room);
  } finally {
    closeSync(fd);
  }
}

/** The bytes of the open file `fd` when it has at most `room` bytes, else `null` (read whole, by direct calls). */
function readOpenUpTo(fd: number, room: number): Uint8Array | null {
  const size = fstatSync(fd).size;
  if (size > room) return null;
  return readFullySync(fd, new Uint8Array(size), 0);
}

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
  /** The root's real path, found on first need (a store of files at its root needs none). */
  #real: string | undefined;
  readonly #inside = new Set<string>();
  constructor(root: string) {
    this.#root = root;
  }
  #within(real: string): boolean {
    this.#real ??= realpathSync.native(this.#root);
    return real === this.#real || real.startsWith(this.#real + path.sep);
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
    return readOpenUpTo(fd, room);
  } catch (e) {
    if (MISSING.has(code(e))) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * The keys of the `DirectoryStore` rooted at `root` as its `list()` gives them (files and symlinks;
 * folders entered unless symlinked; temporary files skipped; none when the root is missing),
 * metadata documents first as {@link keysMetadataFirst} orders them — or `null` past `maxKeys`.
 * Direct calls: a small store's one or two folders cost less than the promise machinery of a
 * recursive `readdir`.
 */
function listUpTo(root: string, maxKeys: number): AbsolutePath[] | null {
  const metadata: AbsolutePath[] = [];
  const data: AbsolutePath[] = [];
  const walk = (dir: string, rel: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (rel === "/" && MISSING.has(code(e))) return true;
      throw e;
    }
    for (const ent of entries) {
      const name = ent.name;
      if (name.startsWith(TMP_MARK)) continue;
      if (ent.isDirectory()) {
        if (!walk(`${dir}/${name}`, `${rel}${name}/`)) return false;
        continue;
      }
      const key = `${rel}${name}` as AbsolutePath;
      (isMetadataDocument(key) ? metadata : data).push(key);
      if (metadata.length + data.length > maxKeys) return false;
    }
    return true;
  };
  if (!walk(root, "/")) return null;
  if (metadata.length > 1) metadata.sort(compareMetadataKeys);
  return metadata.length === 0 ? data : metadata.concat(data);
}

/**
 * {@link readSmallStore} for Node: the same result (every value, metadata first; `null` past
 * `maxKeys` keys or `maxBytes` bytes), with a `DirectoryStore`'s files read by direct system
 * calls after one walk of its folders as `list()` would give them (a confined store's symlink
 * checks included), and a small zip file (with no write session open) read whole in one call.
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
  if (from instanceof ZipStore && from.path !== undefined && !from.writing) {
    // A small archive in one read, its entries sliced from memory (the same checks as the file's
    // store: the same class reads it); bigger or unreadable ones go through the store itself.
    const bytes = readWholeUpTo(from.path, limits.maxBytes + ZIP_SLACK);
    if (bytes) return readSmallStore(new WholeZip(bytes, `ZipStore(${from.path})`), limits);
  }
  if (!(from instanceof DirectoryStore)) return readSmallStore(from, limits);
  let keys: AbsolutePath[] | null;
  if (from.list === DirectoryStore.prototype.list) {
    try {
      keys = listUpTo(from.root, limits.maxKeys);
    } catch (e) {
      throw new StoreError(String(from), "list", "/", e);
    }
  } else {
    // A subclass that lists its own way is listed its way.
    keys = await keysMetadataFirst(from, limits.maxKeys);
  }
  if (keys === null) return null;
  const confined = from.confine && keys.length > 0 ? new Confinement(from.root) : null;
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
