import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { type Command, Option } from "commander";
import {
  type ArrayShardSpec,
  type DescribedFactory,
  ShardedStore,
  type ShardTransform,
  type ShardVisit,
  type Store,
  saveShardedStore,
  toZipStoreWithPrefix,
  ZipStore,
  zipPathFor,
} from "../node.js";
import { positiveInt, timed, withCommonOptions } from "./common.js";
import { convertEach } from "./convert-each.js";
import { convertPart, declaredIndices } from "./convert-part.js";
import { convertToS3 } from "./convert-s3.js";
import { UsageError } from "./errors.js";
import { CONFIG_NAME, PREFIX_NAME, toDirectoryStoreWithPrefix } from "./layout.js";
import { openSource, sourceOptions, withSourceOptions } from "./open.js";
import { formatBytes, formatDuration, plural, printJson, printLines, warn } from "./output.js";
import { type Part, parsePart } from "./parts.js";
import { type CommonOptions, progressBar } from "./progress.js";
import { isS3Location, S3Output } from "./s3-out.js";

/**
 * Stores converted at once by default: the zips written meanwhile are made durable together, one
 * filesystem sync per round (src/durable-files.ts), so rounds must be big enough to share it. At
 * 10^4 stores on this machine's ext4 (bench/CONVERT.md), 256 at once (rounds of ~150 files, one
 * `sync -f` each) took 11–14 s where 64 with an fsync each took 19–23 s and 1,024 (rounds of 500,
 * whose sync ran long) 18–19 s.
 */
export const DEFAULT_CONCURRENCY = 256;

/** Stores uploaded at once into S3 by default (each upload has requests of its own in flight). */
const S3_CONCURRENCY = 16;

/** How a conversion writes its config's index stores (`--form`); absent: as the source has them. */
export type ConvertForm = "compact" | "expanded";

interface ConvertOptions extends CommonOptions {
  to: "zip" | "dir";
  out: string;
  concurrency?: number;
  part?: Part;
  form?: ConvertForm;
}

/**
 * What {@link convertComposition} did.
 *
 * @example
 * ```ts
 * const { stores, skipped, bytes, config } = await convertComposition(sharded, "zip", "out", {});
 * ```
 */
export interface ConversionReport {
  to: "zip" | "dir";
  config: string;
  stores: number;
  converted: number;
  skipped: number;
  bytes: number;
  keysBefore: number;
  ms: number;
  result: ShardedStore;
}

/**
 * Converts every store of `sharded` to a zip file (or a directory) under `outDir/data…`, resumably,
 * and saves the new config as `outDir/composition.json` once every store is done. Each store is
 * converted and closed in turn (see {@link convertEach}), and none is kept: the source's stores are
 * visited with `shardsOnDemand()` (packed index tuples), the new composition's index stores are
 * found by its factories (a walk of the output folder) and described while its config is written.
 * The config keeps each array's form: an array the source declared in compact form (factory and
 * index boxes) is declared so again, with the same boxes (nothing per store is written or kept),
 * unless `opts.form` says otherwise; the others are written as `"auto"` chooses.
 *
 * @example
 * ```ts
 * await convertComposition(await openShardedStore("a/composition.json"), "zip", "b", { concurrency: 4 });
 * ```
 */
export async function convertComposition(
  sharded: ShardedStore,
  to: "zip" | "dir",
  outDir: string,
  opts: CommonOptions & { concurrency?: number; form?: ConvertForm },
): Promise<ConversionReport> {
  const out = path.resolve(outDir);
  await mkdir(out, { recursive: true });
  const prefix = path.join(out, PREFIX_NAME);
  const bar = progressBar(opts, `converting to ${to}`);
  const fn = to === "zip" ? toZipStoreWithPrefix(prefix) : toDirectoryStoreWithPrefix(prefix);
  const [{ kept, totals }, ms] = await timed(async () => {
    const entries = await sharded.shardsOnDemand();
    bar.start(entries.length);
    try {
      return await convertEach(entries, fn, {
        concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
        keep: (e) => e.kind !== "array",
        onStore: () => bar.increment(),
      });
    } finally {
      bar.stop();
    }
  });
  const result = composition(sharded, fn, kept, to, prefix);
  const config = path.join(out, CONFIG_NAME);
  await saveShardedStore(result, config, { onWarning: warn, ...(opts.form ? { form: opts.form } : {}) });
  return {
    to,
    config,
    stores: totals.stores,
    converted: totals.converted,
    skipped: totals.skipped,
    bytes: totals.bytes,
    keysBefore: totals.keys,
    ms,
    result,
  };
}

/**
 * The converted composition: the base and group shards `kept` from the conversion, and each array
 * of `sharded` with the transformation's factory. The index stores written are found by its listing
 * (a walk of the output folder) when the config is saved; a zip that exists opens read-only (as the
 * transformation returns it, so the config is the one `mapShards` would give), a new index store
 * through the factory. Nothing is held per store: the config is written as they are described. An
 * array the source declared by index boxes (a compact config) is given the same boxes: every index
 * store they name was converted to the factory's output, and a config saved as `"auto"` stays compact.
 */
function composition(
  sharded: ShardedStore,
  fn: ShardTransform,
  kept: Map<ShardVisit, Store>,
  to: "zip" | "dir",
  prefix: string,
): ShardedStore {
  let base: Store | undefined;
  const shards: Record<string, Store> = {};
  for (const [e, store] of kept) {
    if (e.kind === "base") base = store;
    else shards[e.mount] = store;
  }
  const arrayShards: Record<string, ArrayShardSpec> = {};
  const declared = declaredIndices(sharded);
  for (const [mount, m] of sharded.arrayMounts) {
    const grow = fn.arrayShardFactory!(mount, m.dims) as DescribedFactory;
    const factory =
      to === "zip"
        ? Object.assign(
            (index: readonly number[]) => {
              const file = zipPathFor(prefix, mount, index);
              return existsSync(file) ? new ZipStore(file, { mode: "r" }) : grow(index);
            },
            { factorySpec: grow.factorySpec, listIndices: grow.listIndices },
          )
        : grow;
    arrayShards[mount] = {
      dims: m.dims,
      factory,
      ...(declared[mount] !== undefined ? { indices: declared[mount] } : {}),
    };
  }
  return new ShardedStore(base!, { shards, arrayShards });
}

/**
 * Says which group shards are compositions themselves: convert copies each into one store (one zip
 * or one directory holding all its keys), so their own sharding is flattened.
 */
function warnNested(sharded: ShardedStore, to: "zip" | "dir"): void {
  for (const [mount, store] of sharded.shardMounts) {
    if (store instanceof ShardedStore) {
      warn(
        `group shard "${mount}" is itself a composition: flattened into one ${to === "zip" ? "zip" : "directory"} holding all its keys (convert it on its own first to keep its sharding)`,
      );
    }
  }
}

/** `convert … --out s3://bucket/prefix`, whole or one part, and what it prints. */
async function convertIntoS3(sharded: ShardedStore, source: string, out: S3Output, opts: ConvertOptions) {
  const what = opts.part ? `converting part ${opts.part.k}/${opts.part.n}` : `converting to ${opts.to}`;
  const r = await convertToS3(sharded, source, opts.to, out, {
    concurrency: opts.concurrency ?? S3_CONCURRENCY,
    ...(opts.part ? { part: opts.part } : {}),
    ...(opts.form ? { form: opts.form } : {}),
    bar: progressBar(opts, what),
  });
  if (opts.json) {
    const { part, of, ...rest } = r;
    await printJson({ ...(opts.part ? { part, of } : {}), to: opts.to, out: out.url, ...rest });
    return;
  }
  if (opts.part) {
    await printLines([
      r.alreadyComplete
        ? `Part ${r.part}/${r.of} was already complete (${plural(r.stores, "store")})`
        : `Converted part ${r.part}/${r.of} into ${out.url}: ${plural(r.stores, "store")} (${r.skipped} already done), ${formatBytes(r.bytes)}`,
      `  next: when every part is complete, shardedstore finalize ${opts.out}`,
    ]);
    return;
  }
  await printLines([
    `Converted ${plural(r.stores, "store")} to ${opts.to === "zip" ? "zip objects" : "S3 prefixes"} in ${out.url}` +
      (r.skipped > 0 ? ` (${r.skipped} already done, skipped)` : ""),
    `  copied:  ${plural(r.keys, "key")}, ${formatBytes(r.bytes)}`,
    `  config:  ${r.config}`,
  ]);
}

/**
 * `shardedstore convert CONFIG --to zip --out DIR`: every store of the composition becomes one zip
 * file (or directory); resumable; writes `DIR/composition.json`.
 *
 * @example
 * ```ts
 * registerConvert(program); // shardedstore convert out/sharded/composition.json --to zip --out out/zip
 * ```
 */
export function registerConvert(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("convert"))
      .description(
        `convert every store of a composition to a zip file (or a directory); resumable; writes DIR/${CONFIG_NAME}`,
      )
      .argument("<config>", "composition config (.json)")
      .addOption(
        new Option("--to <type>", "what each store becomes").choices(["zip", "dir"]).makeOptionMandatory(),
      )
      .requiredOption(
        "--out <dir>",
        `output folder or s3://bucket/prefix (stores under ${PREFIX_NAME}…, config ${CONFIG_NAME})`,
      )
      .option(
        "--concurrency <n>",
        `stores converted at once (default: ${DEFAULT_CONCURRENCY}; ${S3_CONCURRENCY} into S3)`,
        positiveInt,
      )
      .addOption(
        new Option(
          "--form <form>",
          "how the new config lists index stores: one by one (expanded, what the Python original reads) or as the factory and index boxes (compact); default: as the source does, per array",
        ).choices(["compact", "expanded"]),
      )
      .option(
        "--part <K/N>",
        "convert only part K of N (a deterministic split of the stores; run every part, then `shardedstore finalize DIR`)",
        parsePart,
      ),
  ).action(async (configPath: string, opts: ConvertOptions) => {
    if (opts.part !== undefined && opts.form !== undefined) {
      throw new UsageError(
        "--form applies to a whole conversion: a part writes no config, and finalize writes each array in the form the source has",
      );
    }
    const s3 = isS3Location(opts.out) ? S3Output.parse(opts.out, sourceOptions(opts)) : undefined;
    const src = await openSource(configPath, sourceOptions(opts));
    if (src.kind !== "config")
      throw new UsageError(
        `${configPath} is a ${src.kind} store, not a composition config; use reshard to split it`,
      );
    warnNested(src.sharded, opts.to);
    if (s3 !== undefined && src.path.replace(/[?#].*$/, "") === s3.where(CONFIG_NAME)) {
      await s3.close();
      throw new UsageError(`--out ${opts.out} would overwrite ${configPath}; choose another prefix`);
    }
    if (s3 !== undefined) {
      try {
        await convertIntoS3(src.sharded, src.path, s3, opts);
      } finally {
        await s3.close();
        await src.sharded.close();
      }
      return;
    }
    const target = path.resolve(opts.out, CONFIG_NAME);
    if (target === src.path) {
      throw new UsageError(`--out ${opts.out} would overwrite ${configPath}; choose another folder`);
    }
    if (opts.part !== undefined) {
      const p = await convertPart(
        src.sharded,
        src.path,
        opts.to,
        opts.out,
        opts.part,
        opts.concurrency ?? DEFAULT_CONCURRENCY,
        progressBar(opts, `converting part ${opts.part.k}/${opts.part.n}`),
      );
      await src.sharded.close();
      if (opts.json) {
        await printJson({ ...p, out: path.resolve(opts.out) });
        return;
      }
      await printLines([
        p.alreadyComplete
          ? `Part ${p.part}/${p.of} was already complete (${plural(p.stores, "store")})`
          : `Converted part ${p.part}/${p.of}: ${plural(p.stores, "store")} (${p.skipped} already done), ${formatBytes(p.bytes)}`,
        `  next: when every part is complete, shardedstore finalize ${opts.out}`,
      ]);
      return;
    }
    const r = await convertComposition(src.sharded, opts.to, opts.out, opts);
    await r.result.close();
    const report = {
      config: r.config,
      to: r.to,
      stores: r.stores,
      converted: r.converted,
      skipped: r.skipped,
      bytes: r.bytes,
      keysBefore: r.keysBefore,
      filesAfter: r.to === "zip" ? r.stores : r.keysBefore,
      ms: Math.round(r.ms),
    };
    if (opts.json) {
      await printJson(report);
      return;
    }
    await printLines([
      `Converted ${plural(r.stores, "store")} to ${r.to === "zip" ? "zip files" : "directories"} in ${formatDuration(r.ms)}` +
        (r.skipped > 0 ? ` (${r.skipped} already done, skipped)` : ""),
      `  copied:  ${formatBytes(r.bytes)}`,
      `  objects: ${plural(r.keysBefore, "key")} in ${plural(r.stores, "store")} → ${r.to === "zip" ? plural(r.stores, "zip file") : plural(r.keysBefore, "file")}`,
      `  config:  ${path.relative(process.cwd(), r.config) || r.config}`,
    ]);
  });
}
