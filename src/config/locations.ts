// Where a config's stores are: a path, or an http(s)/s3 URL, resolved against the config's own
// location and checked against the caller's trust (confinement, URLs). Browser-safe.
import { ConfigError } from "../errors.js";
import type { S3StoreOptions } from "../s3-store.js";
import { isInside, resolvePosix } from "./paths.js";

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
const REMOTE = /^(https?|s3):\/\//i;

/**
 * `true` for the URLs a config may name as remote stores: `http://`, `https://`, `s3://`.
 *
 * @example
 * ```ts
 * isRemoteUrl("s3://bucket/data/a.zarr"); // true
 * isRemoteUrl("/data/a.zarr"); // false
 * ```
 */
export function isRemoteUrl(s: string): boolean {
  return REMOTE.test(s);
}

/**
 * A `file:` URL's path (percent-decoded), without node:url; a bad URL is a ConfigError at `where`.
 *
 * @example
 * ```ts
 * filePath("file:///data/a%20b.json", "(config)"); // "/data/a b.json"
 * ```
 */
export function filePath(url: string, where: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    throw new ConfigError(where, `is not a valid file URL: ${JSON.stringify(url)}`, { cause: e });
  }
  if (u.host !== "" && u.host !== "localhost") {
    throw new ConfigError(where, `names a file on another host (${JSON.stringify(url)})`);
  }
  return decodeURIComponent(u.pathname);
}

/**
 * A config's base location in canonical form: a path stays a (normalised) path, a `file://` URL
 * becomes its path, an `http(s)://` or `s3://` URL gets a trailing `/` (it names a folder).
 *
 * @example
 * ```ts
 * normalizeBase("https://example.com/demo/sharded"); // "https://example.com/demo/sharded/"
 * normalizeBase("file:///data/comp"); // "/data/comp"
 * ```
 */
export function normalizeBase(baseDir: string): string {
  if (isRemoteUrl(baseDir)) {
    const u = new URL(baseDir);
    u.search = "";
    u.hash = "";
    return u.href.endsWith("/") ? u.href : `${u.href}/`;
  }
  if (/^file:/i.test(baseDir)) return resolvePosix(undefined, filePath(baseDir, "(baseDir)"));
  return resolvePosix(undefined, baseDir);
}

/**
 * `true` when URL `u` is `base` (a folder URL) or below it: same scheme and host, path below at a
 * segment boundary, after resolving `.`/`..`.
 *
 * @example
 * ```ts
 * isInsideUrl("https://h/demo/", "https://h/demo/a.zarr"); // true
 * isInsideUrl("https://h/demo/", "https://h/demo-old/a.zarr"); // false
 * isInsideUrl("s3://b/demo/", "s3://b/demo/a.zip?endpoint=http://10.0.0.1"); // false
 * ```
 */
export function isInsideUrl(base: string, u: string): boolean {
  let b: URL;
  let q: URL;
  try {
    b = new URL(base);
    q = new URL(u);
  } catch {
    return false;
  }
  if (b.protocol !== q.protocol || b.host !== q.host || b.username !== q.username) return false;
  // An s3:// URL's `endpoint` member names the server it reaches: never inside a folder by path alone.
  if (q.protocol === "s3:" && q.searchParams.has("endpoint")) return false;
  const bp = decodeURIComponent(b.pathname);
  const qp = decodeURIComponent(q.pathname);
  return isInside(bp === "" ? "/" : bp, qp === "" ? "/" : qp);
}

/**
 * Who the caller trusts a config to name, see {@link makeResolver}.
 *
 * @example
 * ```ts
 * const policy: ResolvePolicy = { baseDir: "/data/comp", confine: true, allowUrls: false };
 * ```
 */
export interface ResolvePolicy {
  /** The config's folder: a path or an http(s)/s3 URL (see {@link normalizeBase}). */
  baseDir?: string;
  /** Every location must lie inside `baseDir`; a remote config may never name local paths. */
  confine: boolean;
  /** Absolute http(s)/s3 URLs outside `baseDir` may be named. */
  allowUrls: boolean;
  /** Extra check of a local path (the Node entry resolves symbolic links here). */
  checkPath?: (base: string, abs: string, where: string) => void;
}

/**
 * A function resolving each location a config names to an absolute path or URL, or throwing a
 * {@link ConfigError} at its JSON path when the policy forbids it:
 * - relative locations resolve against `baseDir` (a path or a URL; for a URL base they stay on that
 *   server or bucket, and `/x` means the server's `/x`, never a local file);
 * - with `confine`, the result must lie inside `baseDir` (symbolic links included, in Node), and a
 *   config read from a URL may not name local paths at all;
 * - an absolute URL elsewhere needs `allowUrls`.
 *
 * @example
 * ```ts
 * const resolve = makeResolver({ baseDir: "https://h/demo/", confine: true, allowUrls: false });
 * resolve("base.zarr", "config.args[0]"); // "https://h/demo/base.zarr"
 * ```
 */
export function makeResolver(policy: ResolvePolicy): (p: string, where: string) => string {
  const base = policy.baseDir === undefined ? undefined : normalizeBase(policy.baseDir);
  const remoteBase = base !== undefined && isRemoteUrl(base);
  if (policy.confine && base === undefined) throw new ConfigError("(root)", "confine needs a baseDir");
  const folders = new Map<string, { abs: string; inside: boolean }>();
  return (p, where) => {
    // Most locations are plain paths: no ':' means no scheme and no URL.
    const scheme = p.includes(":") ? SCHEME.exec(p)?.[1]?.toLowerCase() : undefined;
    if (scheme !== undefined && isRemoteUrl(p)) {
      const inside = remoteBase && isInsideUrl(base as string, p);
      if (!inside && !policy.allowUrls) {
        throw new ConfigError(
          where,
          `names the URL ${JSON.stringify(p)}; URLs outside the config's folder are followed only when allowed (allowUrls, or --allow-urls on the command line)`,
        );
      }
      return p;
    }
    if (scheme !== undefined && scheme !== "file") {
      throw new ConfigError(
        where,
        `unsupported URL scheme in ${JSON.stringify(p)} (http, https, s3, file or a path)`,
      );
    }
    if (remoteBase) {
      if (scheme === "file") {
        throw new ConfigError(
          where,
          `names a local file (${JSON.stringify(p)}) in a config read from ${base}`,
        );
      }
      const url = new URL(p, base).href;
      if (policy.confine && !isInsideUrl(base as string, url)) {
        throw new ConfigError(where, `${JSON.stringify(p)} resolves to ${url}, outside ${base}`);
      }
      return url;
    }
    const local = scheme === "file" ? filePath(p, where) : p;
    // An expanded config names 10^5 stores in a few hundred folders: each folder is resolved (and
    // checked against the base) once; `folder/leaf` with a plain leaf is then the folder's + leaf.
    const cut = local.lastIndexOf("/");
    const leaf = local.slice(cut + 1);
    if (cut > 0 && leaf !== "" && leaf !== "." && leaf !== "..") {
      const folder = local.slice(0, cut);
      let known = folders.get(folder);
      if (known === undefined) {
        const at = resolvePosix(base, folder);
        known = { abs: at, inside: !policy.confine || isInside(base as string, at) };
        folders.set(folder, known);
      }
      if (known.inside) {
        const abs = known.abs === "/" ? `/${leaf}` : known.abs === "." ? leaf : `${known.abs}/${leaf}`;
        if (policy.confine) policy.checkPath?.(base as string, abs, where);
        return abs;
      }
    }
    const abs = resolvePosix(base, local);
    if (policy.confine) {
      if (!isInside(base as string, abs)) {
        throw new ConfigError(where, `path ${JSON.stringify(local)} resolves to ${abs}, outside ${base}`);
      }
      policy.checkPath?.(base as string, abs, where);
    }
    return abs;
  };
}

/**
 * How stores a config names by URL are reached: passed at run time, never written into a config
 * (they may hold credentials).
 *
 * @example
 * ```ts
 * const remote: RemoteAccess = { s3: { endpoint: "http://127.0.0.1:9000", forcePathStyle: true } };
 * ```
 */
export interface RemoteAccess {
  /** The `fetch` of every FetchStore and URL ZipStore (default `globalThis.fetch`). */
  fetch?: typeof globalThis.fetch;
  /** Headers sent with every HTTP request (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** Client options of every S3Store made from an `s3://` location (endpoint, region, credentials…). */
  s3?: Omit<S3StoreOptions, "bucket" | "prefix">;
}

let makePathCheck: (() => ResolvePolicy["checkPath"]) | undefined;

/**
 * Installs the maker of the real-path check of confined configs (the Node entry installs one that
 * resolves symbolic links; browsers have no local paths to check). A check is made per config
 * read, so it may remember what it found (real paths of folders) for the length of one read.
 *
 * @example
 * ```ts
 * setConfinedPathCheck(() => (base, abs, where) => {});
 * ```
 */
export function setConfinedPathCheck(make: () => ResolvePolicy["checkPath"]): void {
  makePathCheck = make;
}

/**
 * A fresh real-path check from the installed maker, if any.
 *
 * @example
 * ```ts
 * const check = confinedPathCheck();
 * ```
 */
export function confinedPathCheck(): ResolvePolicy["checkPath"] {
  return makePathCheck?.();
}
