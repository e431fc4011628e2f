import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  open as openFd,
  rename as renameCb,
  writeFile as writeFileCb,
} from "node:fs";
import { mkdir, open, readdir, readFile, realpath, rm, unlink } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { InvalidKeyError, markTaggedErrors, StoreError } from "./errors.js";
import { Limiter } from "./fd-limit.js";
import { assertValidKey, normalizePrefix } from "./keys.js";
import { ownedBytes } from "./owned-bytes.js";
import { rangeBounds } from "./range.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";
import { type OpenedFile, openFile } from "./value-info.js";

/** Names starting with this are temporary files of a write in progress: never keys. */
export const TMP_MARK = ".~ss-";
const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);
const NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);
const DIR_CACHE_LIMIT = 1 << 16;
// Shared by every DirectoryStore of the process: zarrita issues one request per chunk all at once,
// and each file operation holds a descriptor.
const files = new Limiter(64);

// Callback fs calls: cheaper per call than fs/promises' FileHandle (no handle object to track and close).
function openFdAsync(file: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => openFd(file, flags, (e, fd) => (e ? reject(e) : resolve(fd))));
}

function code(e: unknown): string {
  return typeof e === "object" && e !== null ? String((e as { code?: unknown }).code ?? "") : "";
}
function isMissing(e: unknown): boolean {
  return MISSING.has(code(e));
}

/**
 * Options of {@link DirectoryStore}.
 *
 * @example
 * ```ts
 * const opts: DirectoryStoreOptions = { confine: true };
 * ```
 */
export interface DirectoryStoreOptions {
  /**
   * Refuse reads through a symlink whose target is outside the root, too (writes always are).
   * Default `false`: reads follow symlinks anywhere, as zarr-python's `DirectoryStore` does.
   */
  confine?: boolean;
}

/** A symlink that leads out of the root: named with the key and where it goes. */
class Escape extends Error {}

/**
 * A store on a local directory, laid out as zarr-python's `DirectoryStore` (key `a/b/.zarray` is
 * file `<root>/a/b/.zarray`). Writes are atomic (temp file + rename); keys that could leave the root
 * are rejected before touching the disk, and so are writes through a symlinked folder whose real
 * path is outside the root (a symlinked file is replaced by the write, never written through); with
 * `confine: true`, reads through such symlinks are refused too. File operations of every
 * DirectoryStore in the process share a bound ({@link DirectoryStore.maxOpenFiles}), so bursts of
 * thousands of requests queue instead of failing with EMFILE. Node only (`shardedstore/node`).
 *
 * @example
 * ```ts
 * import * as zarr from "zarrita";
 * import { DirectoryStore } from "shardedstore/node";
 * const arr = await zarr.open(new DirectoryStore("data/single.zarr"), { kind: "array" });
 * const confined = new DirectoryStore("downloads/data.zarr", { confine: true });
 * ```
 */
export class DirectoryStore implements Store {
  /** The absolute root directory. */
  readonly root: string;
  /** Whether reads through symlinks leaving the root are refused (writes always are). */
  readonly confine: boolean;
  readonly #label: string;
  /** The root's real path, once it exists. */
  #realRoot: string | undefined;
  /** Folders (absolute, as named) whose real path was found inside the root. */
  readonly #inside = new Set<string>();

  /**
   * How many file operations all DirectoryStores of this process run at once (default 64); the
   * rest wait their turn. Each holds at most one descriptor.
   *
   * @example
   * ```ts
   * DirectoryStore.maxOpenFiles = 16; // under a very low `ulimit -n`
   * ```
   */
  static get maxOpenFiles(): number {
    return files.limit;
  }
  static set maxOpenFiles(n: number) {
    files.limit = n;
  }

  constructor(root: string, options: DirectoryStoreOptions = {}) {
    if (typeof root !== "string" || root === "") throw new TypeError("DirectoryStore: root must be a path");
    this.root = path.resolve(root);
    this.confine = options.confine === true;
    this.#label = `DirectoryStore(${this.root})`;
  }

  #file(key: string): string {
    assertValidKey(key, this.#label);
    if (key.includes(`/${TMP_MARK}`)) {
      throw new InvalidKeyError(
        key,
        `names starting with "${TMP_MARK}" are reserved for temporary files`,
        this.#label,
      );
    }
    return this.root + key;
  }

  async #rootReal(): Promise<string | undefined> {
    if (this.#realRoot === undefined) {
      try {
        this.#realRoot = await realpath(this.root);
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    }
    return this.#realRoot;
  }

  #within(real: string, realRoot: string): boolean {
    return real === realRoot || real.startsWith(realRoot.endsWith(path.sep) ? realRoot : realRoot + path.sep);
  }

  #escape(at: string, real: string): Escape {
    const rel = path.relative(this.root, at) || ".";
    return new Escape(`"${rel}" is a symlink that leads outside the store's root (to ${real})`);
  }

  /**
   * Checks that folder `dir` (inside the root by name) is inside it by real path too, or does not
   * exist yet below a folder that is. Results are cached per folder.
   */
  async #checkDir(dir: string): Promise<void> {
    if (dir === this.root || this.#inside.has(dir)) return;
    const realRoot = await this.#rootReal();
    if (realRoot === undefined) return; // nothing exists yet: mkdir will create real folders
    let real: string;
    try {
      real = await realpath(dir);
    } catch (e) {
      if (!isMissing(e)) throw e;
      return this.#checkDir(path.dirname(dir));
    }
    if (!this.#within(real, realRoot)) throw this.#escape(dir, real);
    if (this.#inside.size >= DIR_CACHE_LIMIT) this.#inside.clear();
    this.#inside.add(dir);
  }

  /** After a no-follow open met a symlink (ELOOP): is its target inside the root? */
  async #checkLink(file: string): Promise<void> {
    const realRoot = await this.#rootReal();
    const real = await realpath(file);
    if (realRoot === undefined || !this.#within(real, realRoot)) throw this.#escape(file, real);
  }

  #fail(op: string, key: string, e: unknown): StoreError {
    return new StoreError(this.#label, op, key, e instanceof Escape ? e.message : e);
  }

  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const file = this.#file(key);
    const signal = opts?.signal ? { signal: opts.signal } : {};
    try {
      if (!this.confine) return ownedBytes(await files.run(() => readFile(file, signal)));
      await this.#checkDir(path.dirname(file));
      try {
        return ownedBytes(await files.run(() => readFile(file, { ...signal, flag: NO_FOLLOW })));
      } catch (e) {
        if (code(e) !== "ELOOP") throw e;
        await this.#checkLink(file);
        return ownedBytes(await files.run(() => readFile(file, signal)));
      }
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.#fail("get", key, e);
    }
  }

  async getRange(key: AbsolutePath, range: RangeQuery, _opts?: GetOptions): Promise<Uint8Array | undefined> {
    const file = this.#file(key);
    try {
      if (this.confine) await this.#checkDir(path.dirname(file));
      return await files.run(async () => {
        let fh: Awaited<ReturnType<typeof open>>;
        try {
          fh = await open(file, this.confine ? NO_FOLLOW : "r");
        } catch (e) {
          if (code(e) !== "ELOOP") throw e;
          await this.#checkLink(file);
          fh = await open(file, "r");
        }
        try {
          const size = "suffixLength" in range ? (await fh.stat()).size : Number.MAX_SAFE_INTEGER;
          const [start, end] = rangeBounds(range, size, `${this.#label} ${key}`);
          const buf = new Uint8Array(end - start);
          let filled = 0;
          while (filled < buf.length) {
            const { bytesRead } = await fh.read(buf, filled, buf.length - filled, start + filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          return filled === buf.length ? buf : buf.slice(0, filled);
        } finally {
          await fh.close();
        }
      });
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.#fail("getRange", key, e);
    }
  }

  /**
   * Internal (serve): opens the file holding `key` for reading, with the same key and confinement
   * checks as `get`; `undefined` when it is missing or not a file. The caller owns the descriptor
   * and closes it (it is outside {@link DirectoryStore.maxOpenFiles}: the caller bounds its opens).
   */
  async [openFile](key: AbsolutePath): Promise<OpenedFile | undefined> {
    const file = this.#file(key);
    try {
      if (this.confine) await this.#checkDir(path.dirname(file));
      let fd: number;
      try {
        fd = await openFdAsync(file, this.confine ? NO_FOLLOW : constants.O_RDONLY);
      } catch (e) {
        if (code(e) !== "ELOOP") throw e;
        await this.#checkLink(file);
        fd = await openFdAsync(file, constants.O_RDONLY);
      }
      // fstat and close of a descriptor just opened for reading do no I/O: no thread-pool trip for them.
      try {
        const st = fstatSync(fd);
        if (st.isFile()) return { fd, size: st.size, mtime: st.mtime };
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      closeSync(fd);
      return undefined;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.#fail("open", key, e);
    }
  }

  async set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    const file = this.#file(key);
    const dir = path.dirname(file);
    const tmp = path.join(dir, `${TMP_MARK}${path.basename(file)}.${randomSuffix()}`);
    try {
      await this.#checkDir(dir);
      await files.run(async () => {
        try {
          await writeFile(tmp, value);
        } catch (e) {
          if (code(e) !== "ENOENT") throw e;
          await mkdir(dir, { recursive: true });
          await writeFile(tmp, value);
        }
        // rename replaces a symlink at `file` itself: nothing is written through it.
        await rename(tmp, file);
      });
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw this.#fail("set", key, e);
    }
  }

  async delete(key: AbsolutePath): Promise<void> {
    const file = this.#file(key);
    try {
      await this.#checkDir(path.dirname(file));
      await files.run(() => unlink(file));
    } catch (e) {
      if (isMissing(e)) return;
      throw this.#fail("delete", key, e);
    }
  }

  /**
   * Every key below `prefix` (files and symlinks; symlinked folders are not entered), in no set order.
   */
  async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    const p = normalizePrefix(prefix);
    const start = p === "/" ? this.root : this.root + p.slice(0, -1);
    let entries: Awaited<ReturnType<typeof readdirTyped>>;
    try {
      if (this.confine) await this.#checkDir(start);
      entries = await files.run(() => readdirTyped(start));
    } catch (e) {
      if (isMissing(e)) return;
      throw this.#fail("list", p, e);
    }
    const rootLen = this.root.length;
    // A batch per call keeps the async-iteration overhead off each of 10^5 keys.
    const batch: AbsolutePath[] = [];
    for (const ent of entries) {
      if (ent.isDirectory() || ent.name.startsWith(TMP_MARK)) continue;
      const parent = ent.parentPath ?? ent.path;
      if (parent.includes(`${path.sep}${TMP_MARK}`)) continue;
      const sub = parent.slice(rootLen);
      const rel = sub === "" ? "/" : `${path.sep === "/" ? sub : sub.split(path.sep).join("/")}/`;
      batch.push(`${rel}${ent.name}` as AbsolutePath);
    }
    yield* batch;
  }

  async close(): Promise<void> {}

  toString(): string {
    return this.#label;
  }
}

function readdirTyped(dir: string) {
  return readdir(dir, { recursive: true, withFileTypes: true });
}

// The callback forms: no FileHandle per write (measured: a FileHandle's open + write + close costs
// noticeably more CPU than the same calls on a descriptor number; bench/directory.mjs).
const writeFile = promisify(writeFileCb);
const rename = promisify(renameCb);

function randomSuffix(): string {
  return randomBytes(6).toString("hex");
}

markTaggedErrors(DirectoryStore);
