import { isShardedStoreError } from "../node.js";

/**
 * A mistake in how the command was called: a missing file, a bad argument, a key that does not
 * exist. Reported as one line on stderr; exit code 2.
 *
 * @example
 * ```ts
 * throw new UsageError(`no such file or directory: ${path}`);
 * ```
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * A check that ran and failed (e.g. `verify` found differences). Exit code 1.
 *
 * @example
 * ```ts
 * throw new CheckFailed("3 differences");
 * ```
 */
export class CheckFailed extends Error {
  override readonly name = "CheckFailed";
}

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

// Library errors caused by what the user gave us (a config, a key, a mount, an array's chunking).
const USER_TAGS = new Set([
  "ConfigError",
  "InvalidKeyError",
  "MountError",
  "ArrayShardError",
  "NotWritableError",
]);

/**
 * The exit code and the one-line message for an error thrown by a command. Only errors we do not
 * recognise carry a stack, and only when `SHARDEDSTORE_DEBUG` is set.
 *
 * @example
 * ```ts
 * const { code, message } = describeError(new UsageError("bad")); // { code: 2, message: "bad" }
 * ```
 */
export function describeError(err: unknown): { code: number; message: string; stack?: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message };
  if (err instanceof CheckFailed) return { code: EXIT.failed, message: err.message };
  if (isShardedStoreError(err)) {
    return { code: USER_TAGS.has(err.tag) ? EXIT.usage : EXIT.failed, message: err.message };
  }
  const e = err as { code?: string; message?: string; stack?: string; path?: string };
  // Node file-system errors from paths the user named read well without a stack.
  if (typeof e?.code === "string" && /^E[A-Z]+$/.test(e.code)) {
    return { code: EXIT.usage, message: e.message ?? String(err) };
  }
  const message = e?.message ?? String(err);
  return { code: EXIT.failed, message, ...(e?.stack ? { stack: e.stack } : {}) };
}
