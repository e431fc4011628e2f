/** Names of Zarr metadata documents: v3 `zarr.json`, v2 `.zgroup`, `.zarray`, `.zattrs`, `.zmetadata`. */
const METADATA_NAMES = ["zarr.json", ".zgroup", ".zarray", ".zattrs", ".zmetadata"];

/**
 * `true` for a key whose last segment names a Zarr metadata document.
 *
 * @example
 * ```ts
 * isMetadataDocument("/a/.zarray"); // true
 * ```
 */
export function isMetadataDocument(key: string): boolean {
  return METADATA_NAMES.includes(key.slice(key.lastIndexOf("/") + 1));
}

const depth = (key: string) => key.split("/").length;

/**
 * Orders metadata documents for readers that fetch the front of an archive: the root's first, then
 * breadth-first (shallower nodes before deeper ones), by path within a level, and within a node in
 * the order `zarr.json`, `.zgroup`, `.zarray`, `.zattrs`, `.zmetadata`.
 *
 * @example
 * ```ts
 * ["/a/b/zarr.json", "/zarr.json", "/a/zarr.json"].sort(compareMetadataKeys); // root, /a, /a/b
 * ```
 */
export function compareMetadataKeys(a: string, b: string): number {
  const da = depth(a);
  const db = depth(b);
  if (da !== db) return da - db;
  const pa = a.slice(0, a.lastIndexOf("/"));
  const pb = b.slice(0, b.lastIndexOf("/"));
  if (pa !== pb) return pa < pb ? -1 : 1;
  const na = METADATA_NAMES.indexOf(a.slice(a.lastIndexOf("/") + 1));
  const nb = METADATA_NAMES.indexOf(b.slice(b.lastIndexOf("/") + 1));
  return na - nb;
}

/**
 * Calls `fn` on every item of an async iterable with at most `limit` calls at once; after the first
 * failure no new call starts, and it rejects with that failure once the started calls settle.
 *
 * @example
 * ```ts
 * await forEachLimit(store.list(), 8, async (key) => copy(key));
 * ```
 */
export async function forEachLimit<T>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  for await (const item of items) {
    if (failure !== null) break;
    if (signal?.aborted) {
      failure = { error: signal.reason };
      break;
    }
    const p: Promise<void> = fn(item).then(
      () => {
        inflight.delete(p);
      },
      (error: unknown) => {
        inflight.delete(p);
        failure ??= { error };
      },
    );
    inflight.add(p);
    if (inflight.size >= Math.max(1, limit)) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  if (failure !== null) throw (failure as { error: unknown }).error;
}
