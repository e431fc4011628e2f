/**
 * What a `Range` header asks of a value of `size` bytes: one inclusive byte span, `"unsatisfiable"`
 * (answer 416), or `"whole"` — no header, a unit other than bytes, a malformed header or several
 * ranges, all of which are answered with the whole value (200), as RFC 9110 allows.
 *
 * @example
 * ```ts
 * byteRange("bytes=-4", 10); // { start: 6, end: 9 }
 * byteRange("bytes=10-", 10); // "unsatisfiable"
 * ```
 */
export function byteRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | "whole" {
  if (header === undefined) return "whole";
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return "whole";
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return "whole";
  if (a === "") {
    const n = Number(b);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (!Number.isSafeInteger(start) || start >= size) return "unsatisfiable";
  const last = b === "" ? size - 1 : Number(b);
  if (last < start) return "whole"; // an invalid range spec: ignore the header
  return { start, end: Math.min(last, size - 1) };
}
