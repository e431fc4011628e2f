// The keys of every directory index store under a factory's prefix from one walk of it.
import type { Dirent } from "node:fs";
import { access, readdir } from "node:fs/promises";
import * as path from "node:path";
import { TMP_MARK } from "./directory-store.js";
import type { AbsolutePath, IndexStoreKeys } from "./types.js";

const NUMBER = /^(?:0|[1-9][0-9]{0,14})$/;
const META = new Set(["zarr.json", ".zarray"]);

/** Where a folder of the tree is: above the index stores (the index so far), or inside one. */
type Place = { at: "lead"; lead: number[]; linked: boolean } | { at: "store"; found: Found; inner: string };

interface Found extends IndexStoreKeys {
  /** `null` once a folder of the store could not be read: the store then lists itself. */
  keys: AbsolutePath[] | null;
  /** Metadata names that are symlinks: they count only if their target exists (as `access` says). */
  linkedMeta?: string[];
}

/** Folders read at once (each read holds one descriptor for its duration). */
const CONCURRENCY = 16;

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** The index tuple a store's name gives (`12.zarr` under lead [3], or `3.12.zarr`), or null. */
function indexOf(
  name: string,
  lead: readonly number[],
  separator: "/" | ".",
  suffix: string,
): number[] | null {
  if (!name.endsWith(suffix)) return null;
  const stem = name.slice(0, -suffix.length);
  const parts = separator === "." ? stem.split(".") : [stem];
  if (!parts.every((p) => NUMBER.test(p))) return null;
  return [...lead, ...parts.map(Number)];
}

/**
 * Every directory index store under `root` (named `root/i/j<suffix>` for separator "/", or
 * `root/i.j<suffix>` for "."), each with its keys exactly as its own `DirectoryStore.list()` gives
 * them, from one walk of `root` reading up to 16 folders at once: a listing costs the folders under
 * `root`, not one walk and a metadata check per store, and folders that are neither index folders
 * nor inside a store are never read. Symlinks are treated as the stores and `listIndices` treat
 * them: a linked index folder or store folder is read through the link (a store reads its own root
 * through one), a link inside a store is a key and never entered. `metadata` tells whether the
 * store holds a `zarr.json` or `.zarray` (what `listIndices` requires of an index store); `linked`
 * that it was reached through a link.
 *
 * @example
 * ```ts
 * for (const s of await listDirectoryIndexTree("/data/foo", "/", ".zarr")) console.log(s.index, s.keys);
 * ```
 */
export async function listDirectoryIndexTree(
  root: string,
  separator: "/" | ".",
  suffix: string,
  signal?: AbortSignal,
): Promise<IndexStoreKeys[]> {
  const out: Found[] = [];
  const visit = (dir: string, place: Place, entries: Dirent[], queue: [string, Place][]) => {
    if (place.at === "store") {
      const found = place.found;
      if (found.keys === null) return;
      const top = place.inner === "/";
      for (const ent of entries) {
        const name = ent.name;
        if (name.startsWith(TMP_MARK)) continue;
        if (ent.isDirectory()) {
          queue.push([`${dir}${path.sep}${name}`, { at: "store", found, inner: `${place.inner}${name}/` }]);
          continue;
        }
        found.keys.push(`${place.inner}${name}` as AbsolutePath);
        if (top && META.has(name)) {
          if (!ent.isSymbolicLink()) found.metadata = true;
          else {
            found.linkedMeta ??= [];
            found.linkedMeta.push(`${dir}${path.sep}${name}`);
          }
        }
      }
      return;
    }
    for (const ent of entries) {
      const name = ent.name;
      // Links are followed here, as listIndices does: a store's root may be a link.
      if (!ent.isDirectory() && !ent.isSymbolicLink()) continue;
      const full = `${dir}${path.sep}${name}`;
      const index = indexOf(name, place.lead, separator, suffix);
      const linked = place.linked || ent.isSymbolicLink();
      if (index !== null) {
        const found: Found = { index, keys: [], metadata: false, ...(linked ? { linked } : {}) };
        out.push(found);
        queue.push([full, { at: "store", found, inner: "/" }]);
      } else if (separator === "/" && NUMBER.test(name)) {
        queue.push([full, { at: "lead", lead: [...place.lead, Number(name)], linked }]);
      }
    }
  };
  const linked: Promise<void>[] = [];
  /** A folder of a store that cannot be read (a link loop, no permission): the store lists itself. */
  const unreadable = (dir: string, place: Place): boolean => {
    if (place.at !== "store") return false;
    const found = place.found;
    if (place.inner === "/" && found.keys !== null)
      linked.push(
        Promise.all([...META].map((m) => exists(path.join(dir, m)))).then((has) => {
          found.metadata = has.some(Boolean);
        }),
      );
    found.keys = null;
    delete found.linkedMeta;
    return true;
  };
  await walk(root, { at: "lead", lead: [], linked: false }, visit, unreadable, signal);
  for (const found of out) {
    const files = found.linkedMeta;
    if (files === undefined) continue;
    delete found.linkedMeta;
    if (!found.metadata)
      linked.push(
        Promise.all(files.map(exists)).then((has) => {
          found.metadata = has.some(Boolean);
        }),
      );
  }
  await Promise.all(linked);
  return out;
}

/**
 * Reads folder `root` and the folders `visit` queues, `CONCURRENCY` at once. A folder that is gone
 * or not a folder (a link to a file, a store removed meanwhile) reads as empty, as a store's own
 * listing does; another error inside a store is `unreadable`'s to handle (it returns true), and
 * any other stops the walk.
 */
function walk(
  root: string,
  place: Place,
  visit: (dir: string, place: Place, entries: Dirent[], queue: [string, Place][]) => void,
  unreadable: (dir: string, place: Place) => boolean,
  signal?: AbortSignal,
): Promise<void> {
  const queue: [string, Place][] = [[root, place]];
  let active = 0;
  let failed = false;
  return new Promise<void>((resolve, reject) => {
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      reject(e);
    };
    const pump = () => {
      if (failed) return;
      if (signal?.aborted) return fail(signal.reason);
      while (active < CONCURRENCY && queue.length > 0) {
        const [dir, at] = queue.pop()!;
        active++;
        readdir(dir, { withFileTypes: true }).then(
          (entries) => {
            active--;
            try {
              visit(dir, at, entries, queue);
            } catch (e) {
              return fail(e);
            }
            pump();
          },
          (e: unknown) => {
            active--;
            const code = (e as { code?: string }).code;
            if (code === "ENOENT" || code === "ENOTDIR" || unreadable(dir, at)) pump();
            else fail(e);
          },
        );
      }
      if (active === 0 && queue.length === 0) resolve();
    };
    pump();
  });
}
