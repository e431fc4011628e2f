import { randomBytes } from "node:crypto";
import { mkdir, open, opendir, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { InvalidKeyError, markTaggedErrors, StoreError } from "./errors.js";
import { assertValidKey, normalizePrefix } from "./keys.js";
import { ownedBytes } from "./owned-bytes.js";
import { rangeBounds } from "./range.js";
import type { AbsolutePath, GetOptions, RangeQuery, Store } from "./types.js";

const TMP_MARK = ".~ss-";
const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

function isMissing(e: unknown): boolean {
  return typeof e === "object" && e !== null && MISSING.has((e as { code?: string }).code ?? "");
}

/**
 * A store on a local directory, laid out as zarr-python's `DirectoryStore` (key `a/b/.zarray` is
 * file `<root>/a/b/.zarray`). Writes are atomic (temp file + rename); keys that could leave the root
 * are rejected before touching the disk. Node only (`shardedstore/node`).
 *
 * @example
 * ```ts
 * import * as zarr from "zarrita";
 * import { DirectoryStore } from "shardedstore/node";
 * const arr = await zarr.open(new DirectoryStore("data/single.zarr"), { kind: "array" });
 * ```
 */
export class DirectoryStore implements Store {
  /** The absolute root directory. */
  readonly root: string;
  readonly #label: string;

  constructor(root: string) {
    if (typeof root !== "string" || root === "") throw new TypeError("DirectoryStore: root must be a path");
    this.root = path.resolve(root);
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

  async get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    const file = this.#file(key);
    try {
      return ownedBytes(await readFile(file, opts?.signal ? { signal: opts.signal } : undefined));
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw new StoreError(this.#label, "get", key, e);
    }
  }

  async getRange(key: AbsolutePath, range: RangeQuery, _opts?: GetOptions): Promise<Uint8Array | undefined> {
    const file = this.#file(key);
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(file, "r");
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw new StoreError(this.#label, "getRange", key, e);
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
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw new StoreError(this.#label, "getRange", key, e);
    } finally {
      await fh.close();
    }
  }

  async set(key: AbsolutePath, value: Uint8Array): Promise<void> {
    const file = this.#file(key);
    const dir = path.dirname(file);
    const tmp = path.join(dir, `${TMP_MARK}${path.basename(file)}.${randomBytes(6).toString("hex")}`);
    try {
      try {
        await writeFile(tmp, value);
      } catch (e) {
        if ((e as { code?: string }).code !== "ENOENT") throw e;
        await mkdir(dir, { recursive: true });
        await writeFile(tmp, value);
      }
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw new StoreError(this.#label, "set", key, e);
    }
  }

  async delete(key: AbsolutePath): Promise<void> {
    const file = this.#file(key);
    try {
      await unlink(file);
    } catch (e) {
      if (isMissing(e)) return;
      throw new StoreError(this.#label, "delete", key, e);
    }
  }

  async *list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> {
    const p = normalizePrefix(prefix);
    yield* this.#walk(p === "/" ? this.root : this.root + p.slice(0, -1), p);
  }

  async *#walk(dir: string, keyPrefix: string): AsyncGenerator<AbsolutePath> {
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(dir);
    } catch (e) {
      if (isMissing(e)) return;
      throw new StoreError(this.#label, "list", keyPrefix, e);
    }
    const subdirs: string[] = [];
    for await (const ent of handle) {
      if (ent.name.startsWith(TMP_MARK)) continue;
      if (ent.isDirectory()) subdirs.push(ent.name);
      else if (ent.isFile() || ent.isSymbolicLink()) yield `${keyPrefix}${ent.name}` as AbsolutePath;
    }
    for (const name of subdirs) yield* this.#walk(path.join(dir, name), `${keyPrefix}${name}/`);
  }

  async close(): Promise<void> {}

  toString(): string {
    return this.#label;
  }
}

markTaggedErrors(DirectoryStore);
