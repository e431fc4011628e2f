// POSIX path arithmetic for configs, without node:path so the codec stays browser-safe.

function normalize(p: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
    } else out.push(seg);
  }
  return (abs ? "/" : "") + out.join("/") || (abs ? "/" : ".");
}

/**
 * Resolves `p` against `base` (when `p` is relative and `base` given).
 *
 * @example
 * ```ts
 * resolvePosix("/data/cfg", "../stores/a.zarr"); // "/data/stores/a.zarr"
 * ```
 */
export function resolvePosix(base: string | undefined, p: string): string {
  if (p.startsWith("/") || base === undefined) return normalize(p);
  return normalize(`${base}/${p}`);
}

/**
 * `true` when `p` is `base` or below it.
 *
 * @example
 * ```ts
 * isInside("/data", "/data/a/b"); // true
 * ```
 */
export function isInside(base: string, p: string): boolean {
  const b = normalize(base);
  const q = normalize(p);
  return q === b || q.startsWith(b.endsWith("/") ? b : `${b}/`);
}

/**
 * `p` relative to `base` when it lies below it, else `p` unchanged.
 *
 * @example
 * ```ts
 * relativeIfInside("/data", "/data/a.zarr"); // "a.zarr"
 * ```
 */
export function relativeIfInside(base: string, p: string): string {
  const b = normalize(base);
  const q = normalize(p);
  if (!isInside(b, q) || q === b) return q;
  return q.slice(b === "/" ? 1 : b.length + 1);
}
