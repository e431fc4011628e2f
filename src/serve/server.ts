import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ShardedStore, type Store } from "../node.js";
import { type ZarrHandlerOptions, zarrHandler } from "./handler.js";

/**
 * Options of {@link startZarrServer}.
 *
 * @example
 * ```ts
 * const opts: ZarrServerOptions = { port: 0, host: "127.0.0.1", cors: "*" };
 * ```
 */
export interface ZarrServerOptions extends ZarrHandlerOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on (default `127.0.0.1`: this machine only). */
  host?: string;
}

/**
 * A running server: its base URL and how to stop it.
 *
 * @example
 * ```ts
 * const { url, close } = await startZarrServer(store);
 * ```
 */
export interface ZarrServer {
  /** `http://host:port/`, with the port actually bound. */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting connections, ends idle and open ones, and resolves when the server is closed. */
  close(): Promise<void>;
}

// Idle connections stay open this long: a viewer that pauses between reads keeps its connections
// (a client keeps one alive for the server's hint minus a second; each new one costs a handshake).
const KEEP_ALIVE_MS = 30_000;

/** Reads every sharded array's metadata once, so routing (and `ETag`s) are exact from the first request. */
async function readLayouts(store: Store): Promise<void> {
  if (!(store instanceof ShardedStore)) return;
  for (const p of store.arrayMounts.keys()) await store.get(`/${p}/zarr.json`);
  for (const shard of store.shardMounts.values()) await readLayouts(shard);
  await readLayouts(store.base);
}

/**
 * Serves `store` read-only over HTTP (Node's own `http` module) until `close()`.
 *
 * @example
 * ```ts
 * const srv = await startZarrServer(await openShardedStore("composition.json"), { port: 8080 });
 * console.log(srv.url);
 * ```
 */
export async function startZarrServer(store: Store, options: ZarrServerOptions = {}): Promise<ZarrServer> {
  await readLayouts(store);
  const host = options.host ?? "127.0.0.1";
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, zarrHandler(store, options));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeIdleConnections();
        // Requests still in flight get a moment to finish, then their connections are cut.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}
