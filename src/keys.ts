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
  if (typeof key !== "string" || key.charCodeAt(0) !== 47 /* / */) {
    throw new InvalidKeyError(String(key), "keys must be strings starting with '/'", where);
  }
  if (key.length === 1) throw new InvalidKeyError(key, "the root '/' is not a key", where);
  if (key.indexOf("\\") !== -1) throw new InvalidKeyError(key, "backslashes are not allowed", where);
  if (key.indexOf("\0") !== -1) throw new InvalidKeyError(key, "NUL is not allowed", where);
  if (key.indexOf("//") !== -1 || key.charCodeAt(key.length - 1) === 47) {
    throw new InvalidKeyError(key, "empty path segments are not allowed", where);
  }
  // A "." segment can only appear as "/." followed by "/" or end, or "/.." likewise.
  let i = key.indexOf("/.");
  while (i !== -1) {
    const a = key.charCodeAt(i + 2);
    if (Number.isNaN(a) || a === 47) throw new InvalidKeyError(key, "'.' segments are not allowed", where);
    if (a === 46 /* . */) {
      const b = key.charCodeAt(i + 3);
      if (Number.isNaN(b) || b === 47) throw new InvalidKeyError(key, "'..' segments are not allowed", where);
    }
    i = key.indexOf("/.", i + 2);
  }
}

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
  for (const p of parts) {
    if (p === "." || p === ".." || p.includes("\\") || p.includes("\0")) {
      throw new MountError(`mount path ${JSON.stringify(path)} has an invalid segment ${JSON.stringify(p)}`);
    }
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
  for (const p of parts) {
    if (p === "." || p === ".." || p.includes("\\") || p.includes("\0")) {
      throw new InvalidKeyError(prefix, "invalid listing prefix", "list");
    }
  }
  return `/${parts.join("/")}/`;
}
