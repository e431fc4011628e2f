import type { IncomingMessage, ServerResponse } from "node:http";
import { type AbsolutePath, isShardedStoreError, type Store } from "../node.js";
import type { ValueInfo } from "../value-info.js";
import { BufferPool } from "./buffer-pool.js";
import { limiter } from "./limiter.js";
import { byteRange } from "./range-header.js";
import { requestKey } from "./request-key.js";
import {
  ClosedError,
  closeQuietly,
  ShrankError,
  sendFileRange,
  sendPieces,
  WHOLE_READ_LIMIT,
} from "./send-file.js";
import { type Located, locate } from "./value-source.js";

/**
 * Options of {@link zarrHandler}.
 *
 * @example
 * ```ts
 * const opts: ZarrHandlerOptions = { cors: "*", concurrency: 32 };
 * ```
 */
export interface ZarrHandlerOptions {
  /** `Access-Control-Allow-Origin` to send (an origin or `*`); no CORS headers when absent. */
  cors?: string;
  /** Reads in flight toward the stores at once (default 64); further requests wait. */
  concurrency?: number;
  /** Called with each request that failed inside a store (500/502), for logging. */
  onError?: (key: string, error: unknown) => void;
}

type Headers = Record<string, string | number>;

const ALLOW = "GET, HEAD, OPTIONS";
const JSON_KEYS = /(^|\/)(zarr\.json|\.zarray|\.zgroup|\.zattrs|\.zmetadata)$/;

function fileEtag(size: number, mtime: Date): string {
  return `W/"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`;
}

function notModified(req: IncomingMessage, etag: string | undefined, mtime: Date | undefined): boolean {
  const inm = req.headers["if-none-match"];
  if (inm !== undefined) {
    if (etag === undefined) return false;
    return inm.split(",").some((t) => t.trim() === etag || t.trim() === "*");
  }
  const ims = req.headers["if-modified-since"];
  if (ims === undefined || mtime === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) <= Math.floor(since / 1000);
}

function send(res: ServerResponse, status: number, headers: Headers, text = ""): void {
  const body = text === "" ? "" : `${text}\n`;
  res.writeHead(status, {
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A Node `http` request handler serving a store (a composition, or any store) read-only as one
 * plain Zarr store: `GET`/`HEAD` of every key, single byte ranges (`206`, suffix ranges, `416`;
 * several ranges are answered with the whole value, `200`), `ETag`/`Last-Modified` and `304` for
 * keys kept in directory stores (`ETag` for zip entries), CORS when asked, at most `concurrency`
 * reads toward the stores at once. Values kept as files are read straight from the file (ranges
 * read only their bytes, long values are streamed); `HEAD` and ranges of zip entries use the size
 * from the central directory. Other methods get `405`; paths that are malformed or try to leave
 * the store get `400`; missing keys and folders `404` (nothing is ever listed).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * const server = createServer(zarrHandler(await openShardedStore("composition.json"), { cors: "*" }));
 * server.listen(8080, "127.0.0.1");
 * ```
 */
export function zarrHandler(
  store: Store,
  options: ZarrHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = limiter(options.concurrency ?? 64);
  const pool = new BufferPool(WHOLE_READ_LIMIT);
  const cors: Headers = {};
  if (options.cors !== undefined) {
    cors["Access-Control-Allow-Origin"] = options.cors;
    cors["Access-Control-Expose-Headers"] =
      "Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified";
    if (options.cors !== "*") cors.Vary = "Origin";
  }
  // Headers every value response starts with, built once.
  const base = (json: boolean): Headers => ({
    ...cors,
    "Accept-Ranges": "bytes",
    "Content-Type": json ? "application/json" : "application/octet-stream",
    "X-Content-Type-Options": "nosniff",
  });
  const preflight: Headers = {
    ...cors,
    ...(options.cors === undefined
      ? {}
      : {
          "Access-Control-Allow-Methods": ALLOW,
          "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since, If-Range",
          "Access-Control-Max-Age": "86400",
        }),
    Allow: ALLOW,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    if (method === "OPTIONS") {
      res.writeHead(204, preflight).end();
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      send(res, 405, { ...cors, Allow: ALLOW }, `${method} is not allowed: this server is read-only`);
      return;
    }
    const parsed = requestKey(req.url);
    if ("status" in parsed) {
      send(res, parsed.status, cors, parsed.reason);
      return;
    }
    const { key } = parsed;
    const headers = base(JSON_KEYS.test(key));
    await limit(async () => {
      const where = await locate(store, key);
      try {
        await answer(req, res, key, method === "HEAD", headers, where);
      } finally {
        // sendFileRange closes the descriptor it was given; every other path closes it here.
        if (where.kind === "file" && where.file.fd >= 0) closeQuietly(where.file.fd);
      }
    });
  };

  const answer = async (
    req: IncomingMessage,
    res: ServerResponse,
    key: AbsolutePath,
    head: boolean,
    headers: Headers,
    where: Located,
  ): Promise<void> => {
    if (where.kind === "missing") {
      send(res, 404, cors, "no such key");
      return;
    }
    // What is known before reading: a file's fstat, a zip entry's central directory record; other
    // values are read whole to learn their size.
    let info: ValueInfo;
    let whole: Uint8Array | undefined;
    if (where.kind === "file") info = { ...where.file, etag: fileEtag(where.file.size, where.file.mtime) };
    else if (where.kind === "info") info = where.info;
    else {
      whole = await store.get(key);
      if (whole === undefined) {
        send(res, 404, cors, "no such key");
        return;
      }
      info = { size: whole.byteLength };
    }
    const { size, etag, mtime } = info;
    if (etag !== undefined) headers.ETag = etag;
    if (mtime !== undefined) headers["Last-Modified"] = mtime.toUTCString();
    if (notModified(req, etag, mtime)) {
      res.writeHead(304, headers).end();
      return;
    }
    const ifRange = req.headers["if-range"];
    const range = byteRange(
      ifRange === undefined || (etag !== undefined && ifRange === etag) ? req.headers.range : undefined,
      size,
    );
    if (range === "unsatisfiable") {
      send(res, 416, { ...cors, "Content-Range": `bytes */${size}` }, "range not satisfiable");
      return;
    }
    const [start, end] = range === "whole" ? [0, size - 1] : [range.start, range.end];
    const length = Math.max(0, end - start + 1);
    const status = range === "whole" ? 200 : 206;
    if (range !== "whole") headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    headers["Content-Length"] = length;
    if (head) {
      res.writeHead(status, headers).end();
      return;
    }
    if (where.kind === "file") {
      const fd = where.file.fd;
      where.file.fd = -1; // handed over: sendFileRange closes it
      await sendFileRange(res, status, headers, fd, start, length, pool);
      return;
    }
    const { getRange } = store;
    if (whole === undefined && info.rangeReads === true && length > WHOLE_READ_LIMIT && getRange) {
      await sendPieces(res, status, headers, length, async (offset, n) =>
        getRange.call(store, key, { offset: start + offset, length: n }),
      );
      return;
    }
    let body: Uint8Array | undefined = whole?.subarray(start, end + 1);
    if (body === undefined) {
      // Only the range's bytes are read when the store can (a stored zip entry reads just those).
      if (range === "whole") body = await store.get(key);
      else if (store.getRange) body = await store.getRange(key, { offset: start, length });
      else body = (await store.get(key))?.subarray(start, end + 1);
      if (body === undefined) {
        send(res, 404, cors, "no such key");
        return;
      }
    }
    if (body.byteLength !== length) throw new ShrankError("the value changed while it was read");
    res.writeHead(status, headers);
    res.end(asBuffer(body));
  };

  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) {
        // Mid-body: nothing consistent can follow; a client that left is not an error.
        if (!(e instanceof ClosedError)) options.onError?.(req.url ?? "", e);
        res.destroy();
        return;
      }
      if (e instanceof ShrankError) {
        send(res, 503, cors, "the value changed while it was read; retry");
        return;
      }
      const bad = isShardedStoreError(e, "InvalidKeyError");
      if (bad) {
        send(res, 400, cors, "invalid key");
        return;
      }
      options.onError?.(req.url ?? "", e);
      send(res, isShardedStoreError(e, "StoreError") ? 502 : 500, cors, "the store failed to read this key");
    });
  };
}
