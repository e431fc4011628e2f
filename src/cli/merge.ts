import { stat } from "node:fs/promises";
import * as path from "node:path";
import type { Command } from "commander";
import type { Store } from "../node.js";
import { DirectoryStore, ZipStore } from "../node.js";
import { positiveInt, timed, withCommonOptions } from "./common.js";
import { copyKeys } from "./copy.js";
import { UsageError } from "./errors.js";
import { listAll } from "./hierarchy.js";
import { ensureEmpty } from "./layout.js";
import { closeSource, openSource, sourceOptions, withSourceOptions } from "./open.js";
import { formatBytes, formatDuration, plural, printJson, printLines } from "./output.js";
import { type CommonOptions, progressBar } from "./progress.js";

interface MergeOptions extends CommonOptions {
  out: string;
  concurrency: number;
}

/**
 * `shardedstore merge CONFIG --out PATH`: every logical key of a composition into one directory
 * store, or one zip when PATH ends in `.zip`.
 *
 * @example
 * ```ts
 * registerMerge(program); // shardedstore merge out/composition.json --out merged.zarr.zip
 * ```
 */
export function registerMerge(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("merge"))
      .description("copy a composition into one store: a directory, or a zip when --out ends in .zip")
      .argument("<config>", "composition config (.json); a Zarr directory or zip also works")
      .requiredOption("--out <path>", "new directory, or a .zip file")
      .option("--concurrency <n>", "values copied at once", positiveInt, 8),
  ).action(async (configPath: string, opts: MergeOptions) => {
    const out = path.resolve(opts.out);
    const zip = out.endsWith(".zip");
    if (zip) {
      if ((await stat(out).catch(() => null)) !== null)
        throw new UsageError(`--out ${opts.out} already exists`);
    } else {
      await ensureEmpty(out, "--out");
    }
    const src = await openSource(configPath, sourceOptions(opts));
    const keys = await listAll(src.store);
    const target: Store = zip ? new ZipStore(out, { mode: "w" }) : new DirectoryStore(out);
    const bar = progressBar(opts, "merging");
    const [copied, ms] = await timed(async () => {
      bar.start(keys.length);
      try {
        const r = await copyKeys(src.store, target, keys, {
          concurrency: opts.concurrency,
          onKey: () => bar.increment(),
        });
        await target.close?.();
        return r;
      } finally {
        bar.stop();
        await closeSource(src);
      }
    });
    const stores = src.kind === "config" ? (await src.sharded.shards()).length : 1;
    if (opts.json) {
      await printJson({
        source: src.path,
        out,
        format: zip ? "zip" : "directory",
        stores,
        keys: copied.keys,
        bytes: copied.bytes,
        ms: Math.round(ms),
      });
      return;
    }
    await printLines([
      `Merged ${plural(stores, "store")} into ${zip ? "one zip" : "one directory store"} in ${formatDuration(ms)}`,
      `  copied: ${plural(copied.keys, "key")}, ${formatBytes(copied.bytes)}`,
      `  out:    ${opts.out}`,
    ]);
  });
}
