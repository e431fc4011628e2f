// Real-path confinement for Node: symbolic links resolved before deciding what is inside a folder.
import { realpathSync } from "node:fs";
import { realpath } from "node:fs/promises";
import * as path from "node:path";
import { ConfigError } from "./errors.js";

const missing = (e: unknown) => ["ENOENT", "ENOTDIR"].includes((e as { code?: string }).code ?? "");

/**
 * The real path of `p`: symbolic links resolved in every part that exists; the parts that do not
 * exist yet are appended as they are.
 *
 * @example
 * ```ts
 * realPathSoFar("/data/link/new.zarr"); // "/mnt/real/new.zarr" when /data/link → /mnt/real
 * ```
 */
export function realPathSoFar(p: string): string {
  let head = path.resolve(p);
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync.native(head), ...tail);
    } catch (e) {
      const parent = path.dirname(head);
      if (!missing(e) || parent === head) throw e;
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}

/**
 * Like {@link realPathSoFar}, asynchronously.
 *
 * @example
 * ```ts
 * await realPathSoFarAsync("/data/link/new.zarr");
 * ```
 */
export async function realPathSoFarAsync(p: string): Promise<string> {
  let head = path.resolve(p);
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(await realpath(head), ...tail);
    } catch (e) {
      const parent = path.dirname(head);
      if (!missing(e) || parent === head) throw e;
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}

/**
 * `true` when real path `p` is `root` or below it (both already real, absolute).
 *
 * @example
 * ```ts
 * isRealInside("/data/proj", "/data/proj-old/x.zarr"); // false
 * ```
 */
export function isRealInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}

/**
 * Throws a {@link ConfigError} at `where` unless `abs` stays inside `base` once symbolic links are
 * resolved (the check the Node entry installs for confined configs).
 *
 * @example
 * ```ts
 * assertRealInside("/data/comp", "/data/comp/link/a.zarr", "config.args[0]");
 * ```
 */
export function assertRealInside(base: string, abs: string, where: string): void {
  let realBase: string;
  let real: string;
  try {
    realBase = realPathSoFar(base);
    real = realPathSoFar(abs);
  } catch (e) {
    throw new ConfigError(where, `cannot resolve ${abs}: ${(e as { code?: string }).code ?? "error"}`, {
      cause: e,
    });
  }
  if (!isRealInside(realBase, real)) {
    throw new ConfigError(
      where,
      `${abs} leads through a symbolic link to ${real}, outside the config's folder ${base}`,
    );
  }
}
