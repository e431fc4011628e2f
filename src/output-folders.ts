// The output folders of a shard transformation: listed once each (made when missing), so that a
// conversion tells the stores an earlier run finished without a probe per store.
import { mkdir, readdir } from "node:fs/promises";

/** Output folders whose names are remembered at once (the oldest forgotten first: memory stays flat). */
const FOLDER_MEMORY = 64;

/**
 * The names in an output folder when first asked (the folder is made when missing), remembered for
 * the most recent folders: one listing per folder instead of a probe per store (a conversion owns
 * its output folder, so names appear there only by its own writes).
 *
 * @example
 * ```ts
 * const folder = outputFolders();
 * if ((await folder("out/data/a/0")).has("1.zarr.zip")) console.log("done by an earlier run");
 * ```
 */
export function outputFolders(): (dir: string) => Promise<ReadonlySet<string>> {
  const seen = new Map<string, Promise<ReadonlySet<string>>>();
  return (dir) => {
    let p = seen.get(dir);
    if (p === undefined) {
      if (seen.size >= FOLDER_MEMORY) seen.delete(seen.keys().next().value as string);
      p = readdir(dir).then(
        (names) => new Set(names),
        async (e: unknown) => {
          if ((e as { code?: unknown }).code !== "ENOENT") throw e;
          // In the pool: a mkdir can wait for a journal commit.
          await mkdir(dir, { recursive: true });
          return new Set<string>();
        },
      );
      seen.set(dir, p);
      p.catch(() => seen.delete(dir));
    }
    return p;
  };
}
