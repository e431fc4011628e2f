// Range requests over HTTP and S3: the `Range` header asked and the check of a 206 answer. Only the
// remote reads (http-read.ts, s3-io.ts, loaded on first use) need it, so it stays out of the eager
// bundle (issue 12); slicing and bounds checks live in range.ts.
import { rangeBounds } from "./range.js";
import type { RangeQuery } from "./types.js";

/**
 * Validates a range query and writes it as an HTTP `Range` header value. A zero-length range has no
 * header form, so it asks for one byte (enough to learn whether the key exists).
 *
 * @example
 * ```ts
 * rangeHeader({ offset: 10, length: 5 }, "x"); // "bytes=10-14"
 * rangeHeader({ suffixLength: 22 }, "x");     // "bytes=-22"
 * ```
 */
export function rangeHeader(range: RangeQuery, where: string): string {
  rangeBounds(range, Number.MAX_SAFE_INTEGER, where);
  if ("suffixLength" in range) return range.suffixLength === 0 ? "bytes=0-0" : `bytes=-${range.suffixLength}`;
  return range.length === 0 ? "bytes=0-0" : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/** Parses `Content-Range: bytes a-b/total` (total may be `*`); undefined for anything else. */
export function parseContentRange(
  header: string | null | undefined,
): { start: number; end: number; total: number | undefined } | undefined {
  const m = header == null ? null : /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/.exec(header.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === "*" ? undefined : Number(m[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

/**
 * What a check of a 206 answer found: where the asked bytes are in the body (`[from, to)`), or why
 * the answer cannot be used (`transient`: the body is shorter than its own header says — worth a retry).
 *
 * @example
 * ```ts
 * const r: RangeCheck = { ok: true, from: 0, to: 10 };
 * ```
 */
export type RangeCheck =
  | { ok: true; from: number; to: number }
  | { ok: false; reason: string; transient: boolean };

/**
 * Checks a `206 Partial Content` answer to a range request before any of its bytes are used: the
 * `Content-Range` header must prove where the body's bytes are, and the body must be as long as the
 * header says. The asked bytes are then `body.subarray(from, to)`:
 * - exactly the range asked (or, for a range past the end, the part up to `total - 1`);
 * - a wider range that contains the asked one (some servers and caches align ranges): sliced;
 * - without a `Content-Range` (a browser hides it cross-origin unless exposed): only a body of
 *   exactly the asked length, for an offset/length range, is accepted;
 * - anything else (another start, a shorter range, a total that contradicts it) is refused.
 *
 * @example
 * ```ts
 * checkRangeResponse({ offset: 10, length: 10 }, "bytes 0-99/1000", 100); // { ok: true, from: 10, to: 20 }
 * checkRangeResponse({ offset: 10, length: 10 }, "bytes 10-14/1000", 5);  // { ok: false, … }
 * ```
 */
export function checkRangeResponse(
  range: RangeQuery,
  contentRange: string | null | undefined,
  bodyLength: number,
): RangeCheck {
  const asked = rangeHeader(range, "range check");
  if ("offset" in range ? range.length === 0 : range.suffixLength === 0) return { ok: true, from: 0, to: 0 };
  const cr = parseContentRange(contentRange);
  if (contentRange == null || contentRange === "") {
    if ("offset" in range && bodyLength === range.length) return { ok: true, from: 0, to: bodyLength };
    return {
      ok: false,
      reason: `HTTP 206 without a Content-Range and ${bodyLength} bytes does not prove it holds the requested ${asked} (is Content-Range exposed by CORS?)`,
      transient: "offset" in range && bodyLength < range.length,
    };
  }
  const fail = (why: string, transient = false): RangeCheck => ({
    ok: false,
    reason: `HTTP 206 Content-Range ${contentRange.trim().slice(0, 80)} ${why} the requested ${asked}`,
    transient,
  });
  if (cr === undefined) return fail("is malformed for");
  // Where the asked bytes are in the resource, once its size is known.
  let start: number;
  let end: number; // exclusive
  if ("suffixLength" in range) {
    if (cr.total === undefined) return fail("has no total size, so it cannot prove the end of the value for");
    start = Math.max(0, cr.total - range.suffixLength);
    end = cr.total;
  } else {
    start = range.offset;
    end = range.offset + range.length;
    // A range reaching past the end ends at the last byte; without the total this cannot be proven.
    if (cr.total !== undefined) end = Math.min(end, cr.total);
  }
  if (end < start) return fail("ends before the start of");
  if (cr.start > start || cr.end + 1 < end) return fail("does not match");
  const sent = cr.end - cr.start + 1;
  if (bodyLength < sent) return fail(`promises ${sent} bytes but the body has ${bodyLength}, for`, true);
  if (bodyLength > sent) return fail(`promises ${sent} bytes but the body has ${bodyLength}, for`);
  return { ok: true, from: start - cr.start, to: end - cr.start };
}
