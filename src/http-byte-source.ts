// HTTP reads shared by FetchStore and ZipStore over a URL: every answer is checked (status,
// length, Content-Range) before its bytes are used, under a RemotePolicy (timeout, retries, cap).
// The requests themselves (http-read.ts) load on first use, so that an app that reads nothing
// remote does not carry them; this module holds what stores need up front.
import { type RemoteOptions, RemotePolicy } from "./remote-policy.js";

/** Default of `fullBodyLimit`: the most a store keeps of a server that ignores `Range` (64 MiB). */
export const FULL_BODY_LIMIT = 64 << 20;

/** What {@link httpGetRange} needs to know about the store making the request. */
export interface HttpContext {
  fetch: () => typeof globalThis.fetch;
  policy: RemotePolicy;
  /** Statuses that mean "no such key". */
  missing: ReadonlySet<number>;
  /** The request for `url` with these extra headers (the store's own headers, overrides…). */
  init: (headers: Record<string, string>) => RequestInit;
  /** The most bytes accepted from a 200 answer to a range request. */
  fullBodyLimit: number;
}

/** The answer to a range request, checked. */
export type HttpRangeResult =
  | { kind: "missing" }
  /** 416: the range starts at or past the end (or the value is empty). */
  | { kind: "unsatisfiable"; total: number | undefined }
  /** Exactly the asked bytes (clamped at the end), and the value's size when the server said it. */
  | { kind: "partial"; bytes: Uint8Array; total: number | undefined }
  /** The server ignored `Range` (200): the whole value. */
  | { kind: "whole"; bytes: Uint8Array };

/** A URL for a message: without its query string, which may hold a signature. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}

/** The parts of a `ByteSource` (see zip-store.ts) an HTTP URL gives. */
export interface HttpByteSource {
  readonly label: string;
  size(): Promise<number>;
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  tail(length: number, signal?: AbortSignal): Promise<{ bytes: Uint8Array; size: number }>;
}

/**
 * Options of {@link urlByteSource}: the remote options, plus how to fetch.
 *
 * @example
 * ```ts
 * const o: UrlSourceOptions = { headers: { Authorization: "Bearer …" }, timeout: 5000 };
 * ```
 */
export interface UrlSourceOptions extends RemoteOptions {
  fetch?: typeof globalThis.fetch;
  headers?: Record<string, string>;
  /** The most bytes kept when the server ignores `Range` (default 64 MiB); a larger file is an error. */
  fullBodyLimit?: number;
}

/**
 * The remote options among `options` that were given (what a config carries; never headers or fetch).
 *
 * @example
 * ```ts
 * remoteOptionsOf({ timeout: 5000, headers: {} }); // { timeout: 5000 }
 * ```
 */
export function remoteOptionsOf(
  options: UrlSourceOptions,
): Pick<UrlSourceOptions, "timeout" | "retries" | "concurrency" | "fullBodyLimit"> {
  const out: Pick<UrlSourceOptions, "timeout" | "retries" | "concurrency" | "fullBodyLimit"> = {};
  for (const k of ["timeout", "retries", "concurrency", "fullBodyLimit"] as const) {
    const v = options[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

let httpRead: Promise<typeof import("./http-read.js")> | undefined;

/**
 * The requests' code (http-read.ts), loaded once, on the first remote read.
 *
 * @example
 * ```ts
 * const { httpGet } = await loadHttpRead();
 * ```
 */
export function loadHttpRead(): Promise<typeof import("./http-read.js")> {
  httpRead ??= import("./http-read.js").catch((e: unknown) => {
    httpRead = undefined; // a chunk that failed to load is fetched again on the next read
    throw e;
  });
  return httpRead;
}

/**
 * An HTTP(S) URL read by checked range requests; a suffix request reads the end records and the size
 * at once. A server that ignores `Range` (answers 200 with the whole file) costs one full download:
 * the body is kept (up to `fullBodyLimit`) and every later read slices it. The options are checked
 * now; the requests' code (http-read.ts) loads on the first read.
 *
 * @example
 * ```ts
 * const src = urlByteSource("https://example.com/a.zip", "ZipStore(https://example.com/a.zip)");
 * const { size } = await src.tail(22);
 * ```
 */
export function urlByteSource(url: string, label: string, options: UrlSourceOptions = {}): HttpByteSource {
  const policy = new RemotePolicy(options, label);
  let reader: HttpByteSource | undefined;
  const use = async (): Promise<HttpByteSource> => {
    reader ??= (await loadHttpRead()).urlReader(url, label, options, policy);
    return reader;
  };
  return {
    label,
    size: () => use().then((r) => r.size()),
    read: (offset, length, signal) => use().then((r) => r.read(offset, length, signal)),
    tail: (length, signal) => use().then((r) => r.tail(length, signal)),
  };
}
