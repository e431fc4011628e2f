import { createReadStream } from "node:fs";
import { mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";

/** One request the server received. */
export interface RecordedRequest {
  method: string;
  /** The decoded path, e.g. `/a/b/.zarray`. */
  path: string;
  /** The `Range` header, if any. */
  range: string | undefined;
  headers: IncomingMessage["headers"];
}

/** How the static server behaves. */
export interface StaticServerOptions {
  /** Honour `Range` (206/416). Default `true`; `false` answers every GET with the whole file (200). */
  ranges?: boolean;
  /** Accept PUT (write the file) and DELETE. Default `false` (405). */
  writable?: boolean;
  /** Status for a missing file. Default 404 (S3 without ListBucket answers 403). */
  missingStatus?: number;
  /** Answer a request with this status instead of serving it (return `undefined` to serve it). */
  fail?: (req: RecordedRequest) => number | undefined;
}

/** A running server; `close()` stops it and drops open connections. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  url: string;
  /** Every request received, oldest first (clear it with `requests.length = 0`). */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Parses one `bytes=` range against `size` as RFC 9110 does: `[start, end]` inclusive,
 * `"unsatisfiable"` (answer 416), or `undefined` for a header to ignore (malformed, multi-range).
 *
 * @example
 * ```ts
 * parseRange("bytes=-7", 100); // [93, 99]
 * ```
 */
export function parseRange(header: string, size: number): [number, number] | "unsatisfiable" | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined; // malformed or multi-range: ignore it
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return [start, end];
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * Serves the files under `dir` over HTTP on 127.0.0.1 (a free port) with single `Range` requests,
 * records every request, and optionally accepts PUT/DELETE. The server is `unref()`ed so it never
 * keeps the test process alive; call `close()` in `afterAll` anyway.
 *
 * @example
 * ```ts
 * const server = await startStaticServer("fixtures/single.zarr");
 * const store = new FetchStore(server.url);
 * afterAll(() => server.close());
 * ```
 */
export async function startStaticServer(dir: string, opts: StaticServerOptions = {}): Promise<StaticServer> {
  const root = path.resolve(dir);
  const requests: RecordedRequest[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawPath = new URL(req.url ?? "/", "http://x").pathname;
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawPath);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const rec: RecordedRequest = {
      method: req.method ?? "GET",
      path: decoded,
      range: req.headers.range,
      headers: req.headers,
    };
    requests.push(rec);
    const forced = opts.fail?.(rec);
    if (forced !== undefined) {
      await readBody(req);
      res.writeHead(forced, { "Content-Type": "text/plain" }).end(`forced ${forced}`);
      return;
    }
    const file = path.join(root, decoded);
    if (file !== root && !file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    const missing = () =>
      res.writeHead(opts.missingStatus ?? 404, { "Content-Type": "text/plain" }).end("no");

    if (rec.method === "PUT" || rec.method === "DELETE") {
      const body = await readBody(req);
      if (!opts.writable) {
        res.writeHead(405).end();
        return;
      }
      if (rec.method === "PUT") {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, body);
        res.writeHead(201).end();
        return;
      }
      try {
        await unlink(file);
        res.writeHead(204).end();
      } catch {
        missing();
      }
      return;
    }
    if (rec.method !== "GET" && rec.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }

    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) {
      missing();
      return;
    }
    const size = st.size;
    const range = opts.ranges === false || rec.range === undefined ? undefined : parseRange(rec.range, size);
    const headers: Record<string, string | number> = { "Content-Type": "application/octet-stream" };
    if (opts.ranges !== false) headers["Accept-Ranges"] = "bytes";
    if (range === "unsatisfiable") {
      res.writeHead(416, { ...headers, "Content-Range": `bytes */${size}` }).end();
      return;
    }
    if (range === undefined) {
      res.writeHead(200, { ...headers, "Content-Length": size });
      if (rec.method === "HEAD") res.end();
      else res.end(await readFile(file));
      return;
    }
    const [start, end] = range;
    res.writeHead(206, {
      ...headers,
      "Content-Length": end - start + 1,
      "Content-Range": `bytes ${start}-${end}/${size}`,
    });
    if (rec.method === "HEAD") res.end();
    else createReadStream(file, { start, end }).pipe(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(e));
    });
  });
  return { ...(await listenLocal(server)), requests };
}

/**
 * Starts `server` on 127.0.0.1 on a free port, unref'd so it never keeps a test run alive; `close`
 * drops open connections.
 *
 * @example
 * ```ts
 * const { url, close } = await listenLocal(createServer(handler));
 * ```
 */
export async function listenLocal(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** A server whose every answer a test writes itself; it counts requests and requests in flight. */
export interface ScriptedServer {
  url: string;
  /** Requests received so far (`count = 0` to reset). */
  count: number;
  /** The most requests that were in flight at once. */
  maxInFlight: number;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 that answers with `answer(req, res, n)` (`n`: the 1-based request
 * number), to make a server misbehave in a chosen way: short bodies, wrong `Content-Range`, 503s,
 * stalls, resets.
 *
 * @example
 * ```ts
 * const srv = await startScriptedServer((req, res, n) => res.writeHead(n === 1 ? 503 : 200).end("ok"));
 * ```
 */
export async function startScriptedServer(
  answer: (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>,
): Promise<ScriptedServer> {
  let inFlight = 0;
  const state = { count: 0, maxInFlight: 0 };
  const server = createServer((req, res) => {
    const n = ++state.count;
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    let done = false;
    const end = () => {
      if (!done) inFlight--;
      done = true;
    };
    res.on("close", end);
    Promise.resolve(answer(req, res, n)).catch(() => res.destroy());
  });
  const { url, close } = await listenLocal(server);
  return Object.assign(state, { url, close }) as ScriptedServer;
}

/**
 * Answers a `Range` request on `data` as a correct server does (206/416/200).
 *
 * @example
 * ```ts
 * serveRange(req, res, bytes);
 * ```
 */
export function serveRange(req: IncomingMessage, res: ServerResponse, data: Uint8Array): void {
  const range = req.headers.range === undefined ? undefined : parseRange(req.headers.range, data.length);
  if (range === "unsatisfiable") {
    res.writeHead(416, { "Content-Range": `bytes */${data.length}` }).end();
    return;
  }
  if (range === undefined) {
    res.writeHead(200, { "Content-Length": data.length }).end(data);
    return;
  }
  const [s, e] = range;
  res
    .writeHead(206, { "Content-Length": e - s + 1, "Content-Range": `bytes ${s}-${e}/${data.length}` })
    .end(data.subarray(s, e + 1));
}

/** `python3 -m http.server` running on 127.0.0.1; `log` holds its request lines. */
export interface PythonHttpServer {
  url: string;
  /** Request lines logged so far, e.g. `"GET /a.zip HTTP/1.1" 200 -`. */
  log: string[];
  /** The log once at least `n` lines are in and no more came for 200 ms (it lags the answers). */
  settledLog(n: number): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Starts Debian's `python3 -m http.server` (which ignores `Range`: every GET is a 200 with the whole
 * file) over `dir` on 127.0.0.1 and a free port; `close()` stops the process it started.
 *
 * @example
 * ```ts
 * const py = await startPythonHttpServer("www");
 * ```
 */
export async function startPythonHttpServer(dir: string): Promise<PythonHttpServer> {
  const { spawn } = await import("node:child_process");
  const child = spawn(
    "/usr/bin/python3",
    ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const log: string[] = [];
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    for (const line of s.split("\n")) if (/"[A-Z]+ \//.test(line)) log.push(line.replace(/^.*?"/, '"'));
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`python http.server did not start: ${out}`)), 15_000);
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const m = /port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.once("exit", (code) => reject(new Error(`python http.server exited (${code}): ${out}`)));
  });
  child.unref();
  const settledLog = async (n: number) => {
    let seen = -1;
    for (let i = 0; i < 100 && (log.length < n || log.length !== seen); i++) {
      seen = log.length;
      await new Promise((r) => setTimeout(r, 200));
    }
    return log;
  };
  return {
    url,
    log,
    settledLog,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}
