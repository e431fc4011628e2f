import { open, stat } from "node:fs/promises";
import * as path from "node:path";
import type { AbsolutePath, Store } from "../node.js";
import { DirectoryStore, openShardedStore, ShardedStore, ZipStore } from "../node.js";
import { UsageError } from "./errors.js";

/** A store with `list`, which every store the CLI opens has. */
export type ListableStore = Store & { list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> };

/**
 * A store the user named on the command line: a composition config (`.json`), a directory store
 * or a zip file.
 *
 * @example
 * ```ts
 * const src = await openSource("out/composition.json");
 * if (src.kind === "config") console.log((await src.sharded.shards()).length);
 * ```
 */
export type Source =
  | { kind: "config"; path: string; store: ShardedStore; sharded: ShardedStore }
  | { kind: "directory"; path: string; store: DirectoryStore & ListableStore }
  | { kind: "zip"; path: string; store: ZipStore & ListableStore };

const ROOT_META: AbsolutePath[] = ["/zarr.json", "/.zgroup", "/.zarray"];

async function hasRootMetadata(store: Store): Promise<boolean> {
  for (const key of ROOT_META) if ((await store.get(key)) !== undefined) return true;
  return false;
}

async function isZipFile(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const head = new Uint8Array(4);
    await fh.read(head, 0, 4, 0);
    return head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5);
  } finally {
    await fh.close();
  }
}

/**
 * Opens what the user named: a `.json` file as a composition config, a directory as a
 * `DirectoryStore`, a zip file as a `ZipStore` (read-only unless `writable`). Anything missing or
 * unrecognisable is a {@link UsageError} naming the path.
 *
 * @example
 * ```ts
 * const { store } = await openSource("data/single.zarr");
 * ```
 */
export async function openSource(p: string, options: { writable?: boolean } = {}): Promise<Source> {
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (st === null) throw new UsageError(`no such file or directory: ${p}`);
  if (st.isDirectory()) {
    const store = new DirectoryStore(abs);
    if (!(await hasRootMetadata(store))) {
      throw new UsageError(
        `${p} is a directory but not a Zarr store (no zarr.json, .zgroup or .zarray in it)`,
      );
    }
    return { kind: "directory", path: abs, store };
  }
  if (abs.endsWith(".json")) {
    const store = await openShardedStore(abs);
    return { kind: "config", path: abs, store, sharded: store };
  }
  if (await isZipFile(abs)) {
    const store = new ZipStore(abs, { mode: options.writable ? "a" : "r" });
    if (!(await hasRootMetadata(store))) {
      throw new UsageError(
        `${p} is a zip file but not a Zarr store (no zarr.json, .zgroup or .zarray in it)`,
      );
    }
    return { kind: "zip", path: abs, store };
  }
  throw new UsageError(`${p} is not a composition config (.json), a Zarr directory or a zip file`);
}

/**
 * Opens a composition config; anything else is a {@link UsageError}.
 *
 * @example
 * ```ts
 * const sharded = await openConfig("out/composition.json");
 * ```
 */
export async function openConfig(p: string): Promise<ShardedStore> {
  const src = await openSource(p);
  if (src.kind !== "config") {
    throw new UsageError(`${p} is a ${src.kind} store, not a composition config (.json)`);
  }
  return src.sharded;
}

/** What kind of store this is, for people: `DirectoryStore`, `ZipStore`, … */
export function storeType(store: Store): string {
  if (store instanceof ShardedStore) return "ShardedStore";
  return store.constructor?.name && store.constructor.name !== "Object" ? store.constructor.name : "store";
}

/**
 * Where a store lives: a path (relative to `relativeTo` when below it), a URL, or its description.
 *
 * @example
 * ```ts
 * storeLocation(new DirectoryStore("/out/data.zarr"), "/out"); // "data.zarr"
 * ```
 */
export function storeLocation(store: Store, relativeTo?: string): string {
  let where: string | undefined;
  if (store instanceof DirectoryStore) where = store.root;
  else if (store instanceof ZipStore) where = store.path ?? store.url;
  else {
    const url = (store as { url?: unknown }).url;
    if (typeof url === "string") return url;
  }
  if (where === undefined) return String(store);
  if (relativeTo !== undefined && !where.includes("://")) {
    const rel = path.relative(relativeTo, where);
    if (!rel.startsWith("..") && !path.isAbsolute(rel)) return rel;
  }
  return where;
}

/**
 * Closes a source's stores (flushing zips).
 *
 * @example
 * ```ts
 * await closeSource(src);
 * ```
 */
export async function closeSource(src: Source): Promise<void> {
  await src.store.close?.();
}
