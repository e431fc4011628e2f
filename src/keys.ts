import { InvalidKeyError, MountError } from "./errors.js";
import type { AbsolutePath } from "./types.js";

/**
 * Checks that `key` is a safe store key: starts with `/`, no empty, `.` or `..` segment, no
 * backslash or NUL, no trailing `/`. Throws {@link InvalidKeyError} naming `where` otherwise.
 *
 * @example
 * ```ts
 * assertValidKey("/a/b/.zarray", "MemoryStore"); // ok
 * assertValidKey("/a/../b", "MemoryStore");      // throws
 * ```
 */
export function assertValidKey(key: string, where: string): asserts key is AbsolutePath {
  checkedKeyHash(key, where);
}

const FNV_SEED = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * The FNV-1a hash of `s.slice(start, end)` that {@link checkedKeyHash} records for a key's prefix
 * ending there: a mount path `a/b` hashes (from 0 to its length) to what the key `/a/b/…` records at
 * its second `/`.
 *
 * @example
 * ```ts
 * prefixHash("a/b", 0, 3) === prefixHash("/a/b/c", 1, 4); // true
 * ```
 */
export function prefixHash(s: string, start: number, end: number): number {
  let h = FNV_SEED;
  for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/**
 * {@link assertValidKey}, returning a 32-bit hash of the key (never 0) computed in the same pass:
 * routing uses it to recognise a key's second sight without a map lookup. With `prefixes`, the same
 * pass also records where the key's first `/`-separated prefixes end and their {@link prefixHash}es:
 * `prefixes[0]` = how many were recorded (at most `(prefixes.length - 1) / 2`), then for each
 * the index of its closing `/` and its hash. Mount lookup uses them to find a key's mount without
 * slicing the key or reading it again.
 *
 * @example
 * ```ts
 * const h = checkedKeyHash("/a/b/.zarray", "ShardedStore"); // a non-zero integer
 * const p = new Int32Array(9);
 * checkedKeyHash("/a/b/.zarray", "ShardedStore", p); // p[0] === 2; p[1] === 2 (the "/" after "a")
 * ```
 */
export function checkedKeyHash(key: string, where: string, prefixes?: Int32Array): number {
  if (typeof key !== "string" || key.charCodeAt(0) !== 47 /* / */) {
    throw new InvalidKeyError(String(key), "keys must be strings starting with '/'", where);
  }
  // One pass over the key; only "/", ".", "\\" and NUL need a closer look (all ≤ 47 or 92).
  const n = key.length;
  let prev = 47;
  let h = FNV_SEED; // FNV-1a over UTF-16 code units from the second one; the length is mixed in last
  let recorded = 0;
  const room = prefixes === undefined ? 0 : (prefixes.length - 1) >> 1;
  for (let i = 1; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c <= 47 || c === 92) {
      if (c === 47) {
        if (prev === 47) throw new InvalidKeyError(key, "empty path segments are not allowed", where);
        if (recorded < room) {
          (prefixes as Int32Array)[1 + 2 * recorded] = i;
          (prefixes as Int32Array)[2 + 2 * recorded] = h;
          recorded++;
        }
      } else if (c === 46) {
        if (prev === 47) {
          const d = i + 1 < n ? key.charCodeAt(i + 1) : 47;
          if (d === 47) throw new InvalidKeyError(key, "'.' segments are not allowed", where);
          if (d === 46 && (i + 2 >= n || key.charCodeAt(i + 2) === 47)) {
            throw new InvalidKeyError(key, "'..' segments are not allowed", where);
          }
        }
      } else if (c === 0) {
        throw new InvalidKeyError(key, "NUL is not allowed", where);
      } else if (c === 92) {
        throw new InvalidKeyError(key, "backslashes are not allowed", where);
      }
    }
    h = Math.imul(h ^ c, FNV_PRIME);
    prev = c;
  }
  if (n === 1) throw new InvalidKeyError(key, "the root '/' is not a key", where);
  if (prev === 47) throw new InvalidKeyError(key, "empty path segments are not allowed", where);
  if (prefixes !== undefined) prefixes[0] = recorded;
  return Math.imul(h ^ n, FNV_PRIME) || 1;
}

/** A segment no mount path or prefix may hold. */
const badSegment = (p: string) => p === "." || p === ".." || p.includes("\\") || p.includes("\0");

/**
 * Normalises a mount path: `"a/b"`, `"/a/b/"` and `"a//b"` all become `"a/b"`. Rejects `.`/`..`
 * segments, backslashes and the empty path.
 *
 * @example
 * ```ts
 * normalizeMount("/simulation//fine/"); // "simulation/fine"
 * ```
 */
export function normalizeMount(path: string): string {
  if (typeof path !== "string") throw new MountError(`mount path must be a string, got ${typeof path}`);
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.length === 0) throw new MountError(`mount path ${JSON.stringify(path)} is empty`);
  const bad = parts.find(badSegment);
  if (bad !== undefined) {
    throw new MountError(`mount path ${JSON.stringify(path)} has an invalid segment ${JSON.stringify(bad)}`);
  }
  return parts.join("/");
}

/**
 * Normalises a listing prefix to `"/"` or `"/a/b/"` (a path prefix: `/a` lists `/a/…`, not `/ab`).
 *
 * @example
 * ```ts
 * normalizePrefix("/people"); // "/people/"
 * normalizePrefix(undefined); // "/"
 * ```
 */
export function normalizePrefix(prefix: string | undefined): AbsolutePath {
  if (prefix === undefined || prefix === "" || prefix === "/") return "/";
  const parts = prefix.split("/").filter((p) => p !== "");
  if (parts.length === 0) return "/";
  if (parts.some(badSegment)) throw new InvalidKeyError(prefix, "invalid listing prefix", "list");
  return `/${parts.join("/")}/`;
}
