import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { startZarrServer } from "../serve/server.js";
import { positiveInt, withCommonOptions } from "./common.js";
import { openSource } from "./open.js";
import { printJson, printLines } from "./output.js";
import type { CommonOptions } from "./progress.js";

interface ServeOptions extends CommonOptions {
  port: number;
  host: string;
  cors?: string;
  concurrency: number;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("must be a port number (0-65535).");
  return n;
}

/**
 * `shardedstore serve CONFIG [--port N] [--host 127.0.0.1] [--cors ORIGIN]`: the composition as one
 * plain, read-only Zarr store over HTTP, until Ctrl-C (SIGINT) or SIGTERM.
 *
 * @example
 * ```ts
 * registerServe(program); // shardedstore serve out/composition.json --port 8080 --cors '*'
 * ```
 */
export function registerServe(program: Command): void {
  withCommonOptions(
    program
      .command("serve")
      .description("serve a composition over HTTP as one plain, read-only Zarr store (Ctrl-C stops)")
      .argument("<config>", "composition config (.json), Zarr directory or zip")
      .option("--port <n>", "port to listen on (0 picks a free one)", port, 8080)
      .option("--host <address>", "interface to listen on", "127.0.0.1")
      .option("--cors <origin>", "send Access-Control-Allow-Origin: ORIGIN (e.g. '*') so browsers may read")
      .option("--concurrency <n>", "reads in flight toward the stores at once", positiveInt, 64),
  ).action(async (config: string, opts: ServeOptions) => {
    const src = await openSource(config);
    const server = await startZarrServer(src.store, {
      port: opts.port,
      host: opts.host,
      concurrency: opts.concurrency,
      ...(opts.cors !== undefined ? { cors: opts.cors } : {}),
      onError: (key, e) => process.stderr.write(`error: ${key}: ${(e as Error)?.message ?? String(e)}\n`),
    }).catch(async (e: unknown) => {
      await src.store.close?.();
      throw e;
    });
    if (opts.json) await printJson({ url: server.url, port: server.port });
    else await printLines([`serving ${config} at ${server.url} (read-only; Ctrl-C stops)`]);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await server.close();
    await src.store.close?.();
    if (!opts.json) await printLines(["stopped"]);
  });
}
