// The requests of FetchStore and of ZipStore over a URL, loaded on their first read (see
// http-byte-source.ts): every answer is checked (status, length, Content-Range) before its bytes
// are used, under the store's RemotePolicy (timeout, retries, cap).
import {
  FULL_BODY_LIMIT,
  type HttpByteSource,
  type HttpContext,
  type HttpRangeResult,
  redactUrl,
  type UrlSourceOptions,
} from "./http-byte-source.js";
import { sliceRange } from "./range.js";
import { checkRangeResponse, parseContentRange, rangeHeader } from "./range-response.js";
import { type RemotePolicy, TransientError } from "./remote-policy.js";
import type { RangeQuery } from "./types.js";

const statusText = (res: Response) => `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;

/** Throws for a status that is not a success: transient for 5xx, 408 and 429. */
function refuse(res: Response, url: string, what: string): never {
  void res.body?.cancel().catch(() => {});
  const msg = `${statusText(res)} from ${redactUrl(url)}${what}`;
  if (res.status >= 500 || res.status === 429 || res.status === 408) throw new TransientError(msg);
  throw new Error(msg);
}

/** Reads a body, failing (transiently) when it is shorter or longer than its Content-Length. */
async function readBody(res: Response, url: string, limit?: number): Promise<Uint8Array> {
  const declared = res.headers.get("Content-Length");
  const encoded = (res.headers.get("Content-Encoding") ?? "identity") !== "identity";
  if (limit !== undefined && declared !== null && Number(declared) > limit) {
    void res.body?.cancel().catch(() => {});
    throw new Error(
      `the server ignored Range and sends the whole value (${declared} bytes, more than the ${limit}-byte fullBodyLimit) from ${redactUrl(url)}`,
    );
  }
  const body = new Uint8Array(await res.arrayBuffer());
  if (!encoded && declared !== null && /^\d+$/.test(declared) && body.byteLength !== Number(declared)) {
    throw new TransientError(
      `the body has ${body.byteLength} bytes, not the ${declared} of its Content-Length, from ${redactUrl(url)}`,
    );
  }
  if (limit !== undefined && body.byteLength > limit) {
    throw new Error(
      `the server ignored Range and sent the whole value (${body.byteLength} bytes, more than the ${limit}-byte fullBodyLimit) from ${redactUrl(url)}`,
    );
  }
  return body;
}

/**
 * GETs a whole value: `undefined` for a missing status; a checked body otherwise.
 *
 * @example
 * ```ts
 * const bytes = await httpGet(ctx, "https://example.com/a/.zarray");
 * ```
 */
export function httpGet(
  ctx: HttpContext,
  url: string,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  return ctx.policy.run(async (s) => {
    const res = await ctx.fetch()(url, { ...ctx.init({}), signal: s });
    if (ctx.missing.has(res.status)) {
      void res.body?.cancel().catch(() => {});
      return undefined;
    }
    if (!res.ok) refuse(res, url, "");
    return readBody(res, url);
  }, signal);
}

/**
 * GETs a byte range and checks the answer: a 206 must carry the asked bytes (its `Content-Range`
 * and length are checked, see {@link checkRangeResponse}); a 200 is the whole value (up to
 * `fullBodyLimit`); anything wrong throws (transient failures are retried first).
 *
 * @example
 * ```ts
 * const r = await httpGetRange(ctx, url, { offset: 0, length: 100 });
 * ```
 */
export function httpGetRange(
  ctx: HttpContext,
  url: string,
  range: RangeQuery,
  signal?: AbortSignal,
): Promise<HttpRangeResult> {
  const header = rangeHeader(range, redactUrl(url));
  return ctx.policy.run(async (s): Promise<HttpRangeResult> => {
    const res = await ctx.fetch()(url, { ...ctx.init({ Range: header }), signal: s });
    if (ctx.missing.has(res.status)) {
      void res.body?.cancel().catch(() => {});
      return { kind: "missing" };
    }
    if (res.status === 416) {
      void res.body?.cancel().catch(() => {});
      return { kind: "unsatisfiable", total: parseTotal(res.headers.get("Content-Range")) };
    }
    if (!res.ok) refuse(res, url, ` for ${header}`);
    if (res.status === 200) return { kind: "whole", bytes: await readBody(res, url, ctx.fullBodyLimit) };
    if (res.status !== 206) refuse(res, url, ` for ${header} (expected 206 or 200)`);
    const body = await readBody(res, url);
    const cr = res.headers.get("Content-Range");
    const check = checkRangeResponse(range, cr, body.byteLength);
    if (!check.ok) {
      const msg = `${check.reason}, from ${redactUrl(url)}`;
      throw check.transient ? new TransientError(msg) : new Error(msg);
    }
    return {
      kind: "partial",
      bytes: body.subarray(check.from, check.to),
      total: parseContentRange(cr)?.total,
    };
  }, signal);
}

function parseTotal(header: string | null): number | undefined {
  const m = /\/(\d{1,16})\s*$/.exec(header ?? "");
  return m ? Number(m[1]) : undefined;
}

/**
 * An HTTP(S) URL read by checked range requests; a suffix request reads the end records and the size
 * at once. A server that ignores `Range` (answers 200 with the whole file) costs one full download:
 * the body is kept (up to `fullBodyLimit`) and every later read slices it.
 *
 * @example
 * ```ts
 * const src = urlReader("https://example.com/a.zip", "ZipStore(https://example.com/a.zip)", {}, policy);
 * const { size } = await src.tail(22);
 * ```
 */
export function urlReader(
  url: string,
  label: string,
  options: UrlSourceOptions,
  policy: RemotePolicy,
): HttpByteSource {
  const fetchFn = options.fetch;
  const headers = options.headers ?? {};
  const ctx: HttpContext = {
    fetch: () => fetchFn ?? globalThis.fetch.bind(globalThis),
    policy,
    missing: new Set(),
    init: (h) => ({ headers: { ...headers, ...h } }),
    fullBodyLimit: options.fullBodyLimit ?? FULL_BODY_LIMIT,
  };
  let whole: Uint8Array | undefined;
  let total: Promise<number> | undefined;
  const fetchRange = async (range: RangeQuery, signal?: AbortSignal) => {
    const r = await httpGetRange(ctx, url, range, signal);
    if (r.kind === "whole") {
      whole = r.bytes;
      total = Promise.resolve(r.bytes.byteLength);
    }
    return r;
  };
  const noTotal = () =>
    new Error(`no readable Content-Range total from ${redactUrl(url)} (is it exposed by CORS?)`);
  const source: HttpByteSource = {
    label,
    size: () => {
      if (whole) return Promise.resolve(whole.byteLength);
      total ??= fetchRange({ offset: 0, length: 1 }).then((r) => {
        if (r.kind === "whole") return r.bytes.byteLength;
        if (r.kind === "missing") throw new Error(`HTTP 404 from ${redactUrl(url)}`);
        if (r.total === undefined) throw noTotal();
        return r.total;
      });
      total.catch(() => {
        total = undefined; // a failed probe is retried on the next call
      });
      return total;
    },
    read: async (offset, length, signal) => {
      if (length === 0) return new Uint8Array(0);
      if (whole) return whole.subarray(offset, offset + length);
      const r = await fetchRange({ offset, length }, signal);
      if (r.kind === "whole") return r.bytes.subarray(offset, offset + length);
      if (r.kind === "partial") return r.bytes;
      if (r.kind === "unsatisfiable") return new Uint8Array(0);
      throw new Error(`HTTP 404 from ${redactUrl(url)}`);
    },
    tail: async (length, signal) => {
      if (whole) return { bytes: sliceRange(whole, { suffixLength: length }, label), size: whole.byteLength };
      const r = await fetchRange({ suffixLength: length }, signal);
      if (r.kind === "missing") throw new Error(`HTTP 404 from ${redactUrl(url)} for bytes=-${length}`);
      if (r.kind === "whole") {
        return { bytes: sliceRange(r.bytes, { suffixLength: length }, label), size: r.bytes.byteLength };
      }
      if (r.total === undefined) throw noTotal();
      const size = r.total;
      total ??= Promise.resolve(size);
      return { bytes: r.kind === "partial" ? r.bytes : new Uint8Array(0), size };
    },
  };
  return source;
}

/**
 * The requests of one FetchStore (fetch-store.ts checks keys and ranges, then hands them here), and
 * the whole values it keeps for a server that ignores `Range`.
 *
 * @example
 * ```ts
 * const io = new FetchIo(ctx);
 * const bytes = await io.get("https://example.com/a/.zarray");
 * ```
 */
export class FetchIo {
  readonly #ctx: HttpContext;
  readonly #whole = new Map<string, Uint8Array>();
  #wholeBytes = 0;

  constructor(ctx: HttpContext) {
    this.#ctx = ctx;
  }

  get(url: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return httpGet(this.#ctx, url, signal);
  }

  /** A range of `key` at `url` (range already checked); failures of requests go through `wrap`. */
  async getRange(
    url: string,
    key: string,
    range: RangeQuery,
    where: string,
    signal: AbortSignal | undefined,
    wrap: (e: unknown) => unknown,
  ): Promise<Uint8Array | undefined> {
    const kept = this.#whole.get(key);
    if (kept !== undefined) return sliceRange(kept, range, where);
    try {
      const r = await httpGetRange(this.#ctx, url, range, signal);
      if (r.kind === "missing") return undefined;
      if (r.kind === "unsatisfiable") return new Uint8Array(0);
      if ("offset" in range ? range.length === 0 : range.suffixLength === 0) return new Uint8Array(0);
      if (r.kind === "partial") return r.bytes;
      this.#keep(key, r.bytes);
      return sliceRange(r.bytes, range, where);
    } catch (e) {
      throw wrap(e);
    }
  }

  /** The last `length` bytes of `key` at `url` and its size; failures of requests go through `wrap`. */
  async tail(
    url: string,
    key: string,
    length: number,
    label: string,
    signal: AbortSignal | undefined,
    wrap: (e: unknown) => unknown,
  ): Promise<{ bytes: Uint8Array; size: number } | undefined> {
    const range = { suffixLength: length };
    const kept = this.#whole.get(key);
    if (kept !== undefined) return { bytes: sliceRange(kept, range, label), size: kept.byteLength };
    try {
      const r = await httpGetRange(this.#ctx, url, range, signal);
      if (r.kind === "missing") return undefined;
      if (r.kind === "whole") {
        this.#keep(key, r.bytes);
        return { bytes: sliceRange(r.bytes, range, label), size: r.bytes.byteLength };
      }
      if (r.total === undefined) throw new Error(`no readable Content-Range total for bytes=-${length}`);
      return { bytes: r.kind === "partial" ? r.bytes : new Uint8Array(0), size: r.total };
    } catch (e) {
      throw wrap(e);
    }
  }

  /** Keeps a whole value (its server ignores Range), oldest dropped first to stay under the limit. */
  #keep(key: string, bytes: Uint8Array): void {
    this.#whole.delete(key);
    this.#whole.set(key, bytes);
    this.#wholeBytes += bytes.byteLength;
    for (const [k, v] of this.#whole) {
      if (this.#wholeBytes <= this.#ctx.fullBodyLimit) break;
      this.#whole.delete(k);
      this.#wholeBytes -= v.byteLength;
    }
  }

  #forget(key: string): void {
    const v = this.#whole.get(key);
    if (v === undefined) return;
    this.#whole.delete(key);
    this.#wholeBytes -= v.byteLength;
  }

  /**
   * A PUT of `body` (`op` "set") or a DELETE under the policy: both are idempotent, so a transient
   * failure is retried.
   */
  async write(op: "set" | "delete", url: string, key: string, body?: Uint8Array<ArrayBuffer>): Promise<void> {
    const init: RequestInit =
      op === "set"
        ? {
            ...this.#ctx.init({ "Content-Type": "application/octet-stream" }),
            method: "PUT",
            body: body ?? null,
          }
        : { ...this.#ctx.init({}), method: "DELETE" };
    this.#forget(key);
    await this.#ctx.policy.run(async (signal) => {
      const res = await this.#ctx.fetch()(url, { ...init, signal });
      void res.body?.cancel().catch(() => {});
      if (res.ok || (op === "delete" && this.#ctx.missing.has(res.status))) return;
      const msg = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""} from ${redactUrl(url)}`;
      throw res.status >= 500 || res.status === 429 ? new TransientError(msg) : new Error(msg);
    });
  }
}
