import { PendingStore } from "../index-stores.js";
import { type AbsolutePath, ShardedStore, type Store } from "../node.js";
import {
  hasOpenFile,
  hasValueInfo,
  type OpenedFile,
  openFile,
  type ValueInfo,
  valueInfo,
} from "../value-info.js";

/**
 * Where a requested value is and what is known of it before reading: an open local file, a size
 * (and validator) from the store, nothing (read it whole to learn), or missing.
 *
 * @example
 * ```ts
 * const where: Located = { kind: "info", info: { size: 10 } };
 * ```
 */
export type Located =
  | { kind: "file"; file: OpenedFile }
  | { kind: "info"; info: ValueInfo }
  | { kind: "unknown" }
  | { kind: "missing" };

/** The store and key a logical key finally lands in, through nested compositions. */
async function leaf(store: Store, key: AbsolutePath): Promise<{ store: Store; key: AbsolutePath }> {
  let s = store;
  let k = key;
  for (;;) {
    if (s instanceof PendingStore) s = await s.resolved();
    if (!(s instanceof ShardedStore)) return { store: s, key: k };
    const r = s.resolve(k);
    s = r.store;
    k = r.key;
  }
}

/**
 * Finds the store holding `key` (through nested compositions) and asks it, without reading the
 * value, what it knows: a directory store opens the file (the caller closes `file.fd`), a zip store
 * gives the entry's size from its central directory; other stores give nothing.
 *
 * @example
 * ```ts
 * const where = await locate(composition, "/data/x/c/0/0/0");
 * if (where.kind === "file") closeSync(where.file.fd);
 * ```
 */
export async function locate(store: Store, key: AbsolutePath): Promise<Located> {
  let target: { store: Store; key: AbsolutePath };
  try {
    target = await leaf(store, key);
  } catch {
    return { kind: "unknown" }; // reading through the store reports the problem
  }
  const s = target.store;
  if (hasOpenFile(s)) {
    const file = await s[openFile](target.key);
    return file === undefined ? { kind: "missing" } : { kind: "file", file };
  }
  if (hasValueInfo(s)) {
    const info = await s[valueInfo](target.key);
    return info === undefined ? { kind: "missing" } : { kind: "info", info };
  }
  return { kind: "unknown" };
}
