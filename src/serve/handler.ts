import { open } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AbsolutePath, DirectoryStore, isShardedStoreError, ShardedStore, type Store } from "../node.js";
import { limiter } from "./limiter.js";
import { byteRange } from "./range-header.js";
import { requestKey } from "./request-key.js";

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

/** A key kept as a file of a directory store, open: what it knows before its bytes are read. */
interface FileInfo {
  size: number;
  mtime: Date;
  read(start: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

const ALLOW = "GET, HEAD, OPTIONS";
const JSON_KEYS = /(^|\/)(zarr\.json|\.zarray|\.zgroup|\.zattrs|\.zmetadata)$/;

/** The store and key a logical key finally lands in, through nested compositions. */
function leaf(store: Store, key: AbsolutePath): { store: Store; key: AbsolutePath } {
  let s = store;
  let k = key;
  while (s instanceof ShardedStore) {
    const r = s.resolve(k);
    s = r.store;
    k = r.key;
  }
  return { store: s, key: k };
}

/**
 * A key kept as a file of a directory store, opened (one open + fstat: size, time and bytes come
 * from the same file); `null` when it is missing, `undefined` for keys in other stores.
 */
async function openFile(store: Store, key: AbsolutePath): Promise<FileInfo | null | undefined> {
  let target: { store: Store; key: AbsolutePath };
  try {
    target = leaf(store, key);
  } catch {
    return undefined; // the read itself reports the problem
  }
  // Keys the directory store itself refuses (its temporary files) go through it, and are refused.
  if (!(target.store instanceof DirectoryStore) || target.key.includes("/.~")) return undefined;
  const fh = await open(target.store.root + target.key, "r").catch(() => null);
  if (fh === null) return null;
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      return null;
    }
    return {
      size: st.size,
      mtime: st.mtime,
      read: async (start, length) => {
        const buf = Buffer.allocUnsafe(length);
        let filled = 0;
        while (filled < length) {
          const { bytesRead } = await fh.read(buf, filled, length - filled, start + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buf.subarray(0, filled);
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

function etagOf(info: FileInfo): string {
  return `W/"${info.size.toString(16)}-${Math.floor(info.mtime.getTime()).toString(16)}"`;
}

function notModified(req: IncomingMessage, etag: string, mtime: Date): boolean {
  const inm = req.headers["if-none-match"];
  if (inm !== undefined) return inm.split(",").some((t) => t.trim() === etag || t.trim() === "*");
  const ims = req.headers["if-modified-since"];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Math.floor(mtime.getTime() / 1000) <= Math.floor(since / 1000);
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  text = "",
): void {
  const body = text === "" ? "" : `${text}\n`;
  res.writeHead(status, {
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * A Node `http` request handler serving a store (a composition, or any store) read-only as one
 * plain Zarr store: `GET`/`HEAD` of every key, single byte ranges (`206`, suffix ranges, `416`;
 * several ranges are answered with the whole value, `200`), `ETag`/`Last-Modified` and `304` for
 * keys kept in directory stores, CORS when asked, at most `concurrency` reads toward the stores at
 * once. Other methods get `405`; paths that are malformed or try to leave the store get `400`;
 * missing keys and folders `404` (nothing is ever listed).
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
  const cors: Record<string, string> = {};
  if (options.cors !== undefined) {
    cors["Access-Control-Allow-Origin"] = options.cors;
    cors["Access-Control-Expose-Headers"] =
      "Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified";
    if (options.cors !== "*") cors.Vary = "Origin";
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    if (method === "OPTIONS") {
      const preflight: Record<string, string> =
        options.cors === undefined
          ? {}
          : {
              "Access-Control-Allow-Methods": ALLOW,
              "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since, If-Range",
              "Access-Control-Max-Age": "86400",
            };
      res.writeHead(204, { ...cors, ...preflight, Allow: ALLOW }).end();
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
    const headers: Record<string, string | number> = {
      ...cors,
      "Accept-Ranges": "bytes",
      "Content-Type": JSON_KEYS.test(key) ? "application/json" : "application/octet-stream",
      "X-Content-Type-Options": "nosniff",
    };
    await limit(async () => {
      const file = await openFile(store, key);
      try {
        await answer(req, res, key, method, headers, file);
      } finally {
        await file?.close();
      }
    });
  };

  const answer = async (
    req: IncomingMessage,
    res: ServerResponse,
    key: AbsolutePath,
    method: string,
    headers: Record<string, string | number>,
    info: FileInfo | null | undefined,
  ): Promise<void> => {
    if (info === null) {
      send(res, 404, cors, "no such key");
      return;
    }
    let etag: string | undefined;
    if (info !== undefined) {
      etag = etagOf(info);
      headers.ETag = etag;
      headers["Last-Modified"] = info.mtime.toUTCString();
      if (notModified(req, etag, info.mtime)) {
        res.writeHead(304, headers).end();
        return;
      }
    }
    const ifRange = req.headers["if-range"];
    const rangeHeader = ifRange === undefined || ifRange === etag ? req.headers.range : undefined;
    // A file's size is known before reading, so a range is read alone; other values are read whole.
    let whole: Uint8Array | undefined;
    let size: number;
    if (info !== undefined) size = info.size;
    else {
      whole = await store.get(key);
      if (whole === undefined) {
        send(res, 404, cors, "no such key");
        return;
      }
      size = whole.byteLength;
    }
    const range = byteRange(rangeHeader, size);
    if (range === "unsatisfiable") {
      send(res, 416, { ...cors, "Content-Range": `bytes */${size}` }, "range not satisfiable");
      return;
    }
    const [start, end] = range === "whole" ? [0, size - 1] : [range.start, range.end];
    const length = Math.max(0, end - start + 1);
    if (range !== "whole") headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    headers["Content-Length"] = length;
    let body: Uint8Array | undefined;
    if (method !== "HEAD") {
      body = whole !== undefined ? whole.subarray(start, end + 1) : await info!.read(start, length);
      if (body.byteLength !== length) {
        // The file shrank while being read: nothing consistent to send.
        send(res, 503, cors, "the value changed while it was read; retry");
        return;
      }
    }
    res.writeHead(range === "whole" ? 200 : 206, headers);
    res.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  };

  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      const bad = isShardedStoreError(e, "InvalidKeyError");
      if (!bad) options.onError?.(req.url ?? "", e);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (bad) send(res, 400, cors, "invalid key");
      else
        send(
          res,
          isShardedStoreError(e, "StoreError") ? 502 : 500,
          cors,
          "the store failed to read this key",
        );
    });
  };
}
