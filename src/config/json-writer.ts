// `JSON.stringify(value, null, 1)` written in pieces, `DeferredMembers` made one at a time (Node
// only: saveShardedStore; kept out of the browser bundle).
import { DeferredMembers } from "./deferred-json.js";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof DeferredMembers);

/** `JSON.stringify(value, null, 1)` of a value without deferred members, indented to `indent`. */
function whole(value: unknown, indent: string): string {
  const text = JSON.stringify(value, null, 1);
  return indent === "" ? text : text.replaceAll("\n", `\n${indent}`);
}

/** Whether `value` is or holds deferred members (which are never made whole). */
function holdsDeferred(value: unknown): boolean {
  if (value instanceof DeferredMembers) return true;
  if (typeof value !== "object" || value === null) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (holdsDeferred(v)) return true;
  return false;
}

function* pieces(value: unknown, indent: string): Generator<string> {
  const members =
    value instanceof DeferredMembers
      ? value.members()
      : isPlainObject(value) && typeof value.toJSON !== "function"
        ? null
        : undefined;
  if (members === undefined && !Array.isArray(value)) {
    yield whole(value, indent);
    return;
  }
  const inner = `${indent} `;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield "[]";
      return;
    }
    yield "[";
    for (let i = 0; i < value.length; i++) {
      yield `${i === 0 ? "" : ","}\n${inner}`;
      // JSON.stringify writes null for what it cannot write in an array.
      const v = value[i];
      yield* v === undefined || typeof v === "function" || typeof v === "symbol"
        ? ["null"]
        : pieces(v, inner);
    }
    yield `\n${indent}]`;
    return;
  }
  let first = true;
  for (const [k, v] of members ?? Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
    const head = `${first ? "{" : ","}\n${inner}${JSON.stringify(k)}: `;
    first = false;
    // A deferred member (an index store's config) is one piece: 10^5 of them go through here.
    if (members !== null && !holdsDeferred(v)) yield head + whole(v, inner);
    else {
      yield head;
      yield* pieces(v, inner);
    }
  }
  yield first ? "{}" : `\n${indent}}`;
}

/**
 * Writes `value` as `JSON.stringify(value, null, 1)` would, deferred members made one at a time,
 * through `write` in pieces of about `pieceSize` characters: the text is never whole in memory.
 *
 * @example
 * ```ts
 * let text = "";
 * await writeJson({ a: [1, 2] }, async (s) => { text += s; });
 * text === JSON.stringify({ a: [1, 2] }, null, 1); // true
 * ```
 */
export async function writeJson(
  value: unknown,
  write: (text: string) => Promise<void>,
  pieceSize = 1 << 16,
): Promise<void> {
  // Small pieces, written often: a buffer of 1 MiB of small strings outlives the young generation
  // and grows the heap (+80 MB of peak RSS for 4·10^4 index stores; 64 KiB: none, and 3× faster).
  let buffered = "";
  for (const p of pieces(value, "")) {
    buffered += p;
    if (buffered.length >= pieceSize) {
      await write(buffered);
      buffered = "";
    }
  }
  if (buffered.length > 0) await write(buffered);
}
