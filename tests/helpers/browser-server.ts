import { readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import * as path from "node:path";
import * as esbuild from "esbuild";
import { listenLocal, parseRange } from "./http-server.js";

/** One request the browser made, with what the server answered. */
export interface ServedRequest {
  method: string;
  /** The decoded URL path, e.g. `/data/single.zarr.zip`. */
  path: string;
  /** The `Range` header, if any. */
  range: string | undefined;
  status: number;
  /** Body bytes sent (0 for HEAD and errors). */
  bytes: number;
}

/** What {@link startBrowserServer} serves. */
export interface BrowserServerOptions {
  /** URL prefix (`/dist/`) → folder. A request for `x.js` under a folder with `x.ts` gets it transpiled. */
  mounts: Record<`/${string}/`, string>;
  /** The page's import map (`specifier` → URL path), served at `/` in an otherwise empty page. */
  imports: Record<string, string>;
  /** More pages: URL path → HTML and extra response headers (e.g. a Content-Security-Policy). */
  pages?: Record<`/${string}`, { html: string; headers?: Record<string, string> }>;
}

/** A running server; `close()` stops it and drops open connections. */
export interface BrowserServer {
  /** `http://127.0.0.1:<port>` without a trailing slash. */
  url: string;
  /** Every request received, oldest first. */
  requests: ServedRequest[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".html": "text/html; charset=utf-8",
};

/** The page every test opens: nothing but the import map, so tests `import()` what they need. */
function page(imports: Record<string, string>): string {
  const map = JSON.stringify({ imports }, null, 2).replaceAll("<", "\\u003c");
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>shardedstore browser tests</title>\n<script type="importmap">\n${map}\n</script></head><body></body></html>\n`;
}

/** Resolves a URL path to a file under one of the mounts, refusing anything that escapes it. */
function locate(mounts: BrowserServerOptions["mounts"], urlPath: string): string | undefined {
  for (const [prefix, dir] of Object.entries(mounts)) {
    if (!urlPath.startsWith(prefix)) continue;
    const root = path.resolve(dir);
    const file = path.join(root, urlPath.slice(prefix.length));
    return file.startsWith(root + path.sep) ? file : undefined;
  }
  return undefined;
}

/** Reads a file, or transpiles the `.ts` next to a missing `.js` (how NodeNext imports name TS files). */
async function load(file: string): Promise<Buffer | undefined> {
  const st = await stat(file).catch(() => undefined);
  if (st?.isFile()) return readFile(file);
  if (!file.endsWith(".js")) return undefined;
  const ts = `${file.slice(0, -3)}.ts`;
  if (!(await stat(ts).catch(() => undefined))?.isFile()) return undefined;
  const out = await esbuild.transform(await readFile(ts, "utf8"), {
    loader: "ts",
    format: "esm",
    target: "es2022",
    sourcefile: ts,
    sourcemap: "inline",
  });
  return Buffer.from(out.code);
}

/**
 * Serves a test page with an import map plus static folders (single `Range` requests honoured) on
 * 127.0.0.1 at a free port, for a browser to load ES modules and test data from one origin.
 * Records every request. The server is `unref()`ed; call `close()` in `afterAll` anyway.
 *
 * @example
 * ```ts
 * const server = await startBrowserServer({ mounts: { "/dist/": "dist" }, imports: { shardedstore: "/dist/index.js" } });
 * await page.goto(`${server.url}/`);
 * ```
 */
export async function startBrowserServer(opts: BrowserServerOptions): Promise<BrowserServer> {
  const requests: ServedRequest[] = [];
  const html = Buffer.from(page(opts.imports));

  const handle = async (req: IncomingMessage, res: ServerResponse, rec: ServedRequest): Promise<void> => {
    const send = (status: number, headers: Record<string, string | number>, body?: Buffer) => {
      rec.status = status;
      rec.bytes = req.method === "HEAD" || !body ? 0 : body.length;
      res.writeHead(status, { "Cache-Control": "no-store", ...headers });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    if (rec.method !== "GET" && rec.method !== "HEAD") return send(405, {});
    if (rec.path === "/")
      return send(200, { "Content-Type": TYPES[".html"]!, "Content-Length": html.length }, html);
    const extra = opts.pages?.[rec.path as `/${string}`];
    if (extra !== undefined) {
      const body = Buffer.from(extra.html);
      return send(
        200,
        { "Content-Type": TYPES[".html"]!, "Content-Length": body.length, ...extra.headers },
        body,
      );
    }
    const file = locate(opts.mounts, rec.path);
    const body = file === undefined ? undefined : await load(file);
    if (file === undefined || body === undefined) return send(404, { "Content-Type": "text/plain" });
    const headers: Record<string, string | number> = {
      "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "Accept-Ranges": "bytes",
    };
    const range = rec.range === undefined ? undefined : parseRange(rec.range, body.length);
    if (range === "unsatisfiable")
      return send(416, { ...headers, "Content-Range": `bytes */${body.length}` });
    if (range === undefined) return send(200, { ...headers, "Content-Length": body.length }, body);
    const [start, end] = range;
    const part = body.subarray(start, end + 1);
    send(
      206,
      { ...headers, "Content-Length": part.length, "Content-Range": `bytes ${start}-${end}/${body.length}` },
      part,
    );
  };

  const server = createServer((req, res) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const rec: ServedRequest = {
      method: req.method ?? "GET",
      path: decoded,
      range: req.headers.range,
      status: 0,
      bytes: 0,
    };
    requests.push(rec);
    handle(req, res, rec).catch((e: unknown) => {
      rec.status = 500;
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(e));
    });
  });
  return { ...(await listenLocal(server)), requests };
}

/**
 * The import map entries that let a browser load `entry` (e.g. `"zarrita"`) unbundled from
 * `node_modules`: every bare specifier reachable from it, resolved as a browser bundler would
 * (`browser`/`import` conditions), mapped to `urlPrefix` + its path under `nodeModules`.
 *
 * @example
 * ```ts
 * await nodeModulesImportMap("zarrita", "node_modules", "/node_modules/");
 * // { zarrita: "/node_modules/zarrita/dist/src/index.js", numcodecs: "/node_modules/numcodecs/dist/index.js", … }
 * ```
 */
export async function nodeModulesImportMap(
  entry: string,
  nodeModules: string,
  urlPrefix: string,
): Promise<Record<string, string>> {
  const root = path.resolve(nodeModules, "..");
  const result = await esbuild.build({
    absWorkingDir: root,
    stdin: { contents: `import * as m from ${JSON.stringify(entry)}; globalThis.m = m;`, resolveDir: root },
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "browser",
    outdir: path.join(root, ".browser-map-probe"),
    logLevel: "silent",
  });
  const map: Record<string, string> = {};
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imp of input.imports) {
      const spec = imp.original;
      if (spec === undefined || spec.startsWith(".") || spec.startsWith("/") || imp.external) continue;
      const file = path.resolve(root, imp.path);
      const rel = path.relative(path.resolve(nodeModules), file);
      if (rel.startsWith("..")) throw new Error(`${spec} resolved outside ${nodeModules}: ${file}`);
      const url = urlPrefix + rel.split(path.sep).join("/");
      if (map[spec] !== undefined && map[spec] !== url) {
        throw new Error(`${spec} resolves to two files (${map[spec]}, ${url}); an import map needs scopes`);
      }
      map[spec] = url;
    }
  }
  return map;
}
