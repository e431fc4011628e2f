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
  const d = describeRaw(err);
  return { ...d, message: process.env.SHARDEDSTORE_DEBUG ? d.message : cleanMessage(d.message) };
}

function describeRaw(err: unknown): { code: number; message: string; stack?: string } {
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
  // Node's own argument and range checks (ERR_*, RangeError) mean bad data reached a call: say so.
  const internal = (typeof e?.code === "string" && e.code.startsWith("ERR_")) || err instanceof RangeError;
  return {
    code: EXIT.failed,
    message: internal ? `unexpected failure: ${message}` : message,
    ...(e?.stack ? { stack: e.stack } : {}),
  };
}

/** Longest message printed whole; longer ones are cut (SHARDEDSTORE_DEBUG=1 prints them whole). */
export const MAX_MESSAGE = 400;

/**
 * One readable line from an error message: Node's system-error form (`ENOENT: no such file or
 * directory, open '/x'`) becomes `no such file or directory (/x)`, `[ERR_…]` codes and a leading
 * `RangeError:` go, line breaks become spaces, and past `max` characters it is cut with an ellipsis
 * and a pointer to `SHARDEDSTORE_DEBUG=1`.
 *
 * @example
 * ```ts
 * cleanMessage("ENOENT: no such file or directory, open '/a/b'"); // "no such file or directory (/a/b)"
 * ```
 */
export function cleanMessage(message: string, max = MAX_MESSAGE): string {
  let m = message
    .replace(/^(?:Range|Type|Syntax|Reference)Error(?: \[ERR_[A-Z0-9_]+\])?: /, "")
    .replace(/\bE[A-Z]{2,}: ([a-z][^,]*), [a-z]+ '([^']*)'(?: -> '([^']*)')?/g, (_, what, p, q) =>
      q ? `${what} (${p} -> ${q})` : `${what} (${p})`,
    )
    .replace(/\bE[A-Z]{2,}: ([a-z][^,]*?)(?=$|[,.;)])/g, "$1")
    .replace(/\s*\[ERR_[A-Z0-9_]+\]:?/g, "")
    .replace(/\bERR_[A-Z0-9_]+:?\s*/g, "")
    .replace(/\s*\n\s*/g, " ")
    .trim();
  if (m.length > max) {
    m = `${m.slice(0, max)}… (${m.length - max} more characters; SHARDEDSTORE_DEBUG=1 prints the whole message)`;
  }
  return m;
}
