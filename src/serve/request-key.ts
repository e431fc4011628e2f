import type { AbsolutePath } from "../types.js";

/**
 * The logical key a request names, or why it names none: `400` for a path that is malformed or
 * tries to leave the composition (`..`, `.`, empty segments, backslashes, control characters, bad
 * percent-encoding, before or after decoding), `404` for a folder (the root, a trailing `/`): the
 * server lists nothing.
 *
 * @example
 * ```ts
 * requestKey("/simulation/fine/foo/zarr.json?x=1"); // { key: "/simulation/fine/foo/zarr.json" }
 * requestKey("/a/%2e%2e/b"); // { status: 400, reason: "…" }
 * ```
 */
export function requestKey(
  url: string | undefined,
): { key: AbsolutePath } | { status: 400 | 404; reason: string } {
  // The raw request target, never WHATWG URL parsing: it would resolve "%2e%2e" and ".." for us.
  const raw = (url ?? "").replace(/[?#].*$/s, "");
  if (!raw.startsWith("/"))
    return { status: 400, reason: "the request target must be a path starting with /" };
  if (raw.includes("\\")) return { status: 400, reason: "backslashes are not allowed in keys" };
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    return { status: 400, reason: "malformed percent-encoding" };
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(key))
    return { status: 400, reason: "control characters or backslashes in the key" };
  if (key === "/" || key.endsWith("/")) return { status: 404, reason: "no listing: name a key" };
  for (const seg of key.slice(1).split("/")) {
    if (seg === "") return { status: 400, reason: "empty path segment" };
    if (seg === "." || seg === "..") return { status: 400, reason: `"${seg}" segments are not allowed` };
  }
  return { key: key as AbsolutePath };
}
