import { randomBytes } from "node:crypto";
import { mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Command } from "commander";
import type { Store } from "../node.js";
import { copyStore, DirectoryStore, packStore, ZipStore } from "../node.js";
import { defaultShardShape, itemSize } from "../pack/shard-shape.js";
import { finishZip64WithComment } from "../pack/zip-tail.js";
import { collect, positiveInt, timed, withCommonOptions } from "./common.js";
import { UsageError } from "./errors.js";
import { listAll, parseJson } from "./hierarchy.js";
import { ensureEmpty } from "./layout.js";
import { closeSource, openSource, sourceOptions, withSourceOptions } from "./open.js";
import { formatBytes, formatDuration, plural, printJson, printLines } from "./output.js";
import { parseShardSpec } from "./pack.js";
import { type CommonOptions, progressBar } from "./progress.js";
import { isS3Location, S3Output } from "./s3-out.js";

interface MergeOptions extends CommonOptions {
  out: string;
  concurrency: number;
  ozx?: boolean;
  shard: string[];
  shardBytes: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The shard shapes `merge --ozx` packs with: the ones given, and for every other unpacked v3
 * array {@link defaultShardShape}. The hierarchy must be OME-Zarr (root attributes `ome`, Zarr v3);
 * returns the OME-Zarr version for the archive comment.
 */
async function ozxPlan(
  store: Store,
  keys: readonly string[],
  given: Record<string, number[]>,
  maxBytes: number,
  source: string,
): Promise<{ version: string; shards: Record<string, number[]> }> {
  const rootBytes = await store.get("/zarr.json");
  const root = rootBytes === undefined ? undefined : parseJson(rootBytes);
  const ome = isObject(root) && isObject(root.attributes) ? root.attributes.ome : undefined;
  if (!isObject(ome)) {
    throw new UsageError(
      `--ozx: ${source} is not OME-Zarr (its root zarr.json has no "ome" attributes); write a plain zip with --out NAME.zip`,
    );
  }
  const shards: Record<string, number[]> = { ...given };
  for (const key of keys) {
    if (!key.endsWith("/zarr.json")) continue;
    const p = key.slice(1, -"/zarr.json".length);
    if (p in shards) continue;
    const meta = parseJson((await store.get(key as `/${string}`)) ?? new Uint8Array());
    if (!isObject(meta) || meta.node_type !== "array" || !Array.isArray(meta.codecs)) continue;
    if (meta.codecs.some((c) => isObject(c) && c.name === "sharding_indexed")) continue;
    const grid =
      isObject(meta.chunk_grid) && isObject(meta.chunk_grid.configuration)
        ? meta.chunk_grid.configuration
        : {};
    const shape = meta.shape as number[];
    const chunks = grid.chunk_shape as number[];
    if (!Array.isArray(shape) || !Array.isArray(chunks)) continue;
    shards[p] = defaultShardShape(shape, chunks, itemSize(meta.data_type), maxBytes);
  }
  return { version: String(ome.version ?? ""), shards };
}

/**
 * `shardedstore merge CONFIG --out PATH`: every logical key of a composition into one directory
 * store, or one zip when PATH ends in `.zip` (metadata documents first, root then breadth-first);
 * `--ozx` writes the OME-Zarr RFC-9 zip (`.ozx`).
 *
 * @example
 * ```ts
 * registerMerge(program); // shardedstore merge out/composition.json --out merged.zarr.zip
 * ```
 */
export function registerMerge(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("merge"))
      .description(
        "copy a composition into one store: a directory, or a zip when --out ends in .zip (metadata first); --ozx: an OME-Zarr RFC-9 zip",
      )
      .argument("<config>", "composition config (.json); a Zarr directory or zip also works")
      .requiredOption(
        "--out <path>",
        "new directory, or a .zip (or .ozx) file; or s3://bucket/prefix (a new prefix, or a .zip/.ozx object)",
      )
      .option(
        "--ozx",
        'OME-Zarr RFC-9 zip: ZIP64, stored, every array packed (sharding_indexed), zarr.json first, archive comment {"ome":{"version":…}}',
      )
      .option(
        "--shard <array:shape>",
        "with --ozx: pack ARRAY with shards of SHAPE (default: chosen per array); repeatable",
        collect,
        [],
      )
      .option(
        "--shard-bytes <n>",
        "with --ozx: largest uncompressed shard chosen per array",
        positiveInt,
        256 << 20,
      )
      .option("--concurrency <n>", "values copied at once", positiveInt, 8),
  ).action(async (configPath: string, opts: MergeOptions) => {
    const s3 = isS3Location(opts.out) ? S3Output.parse(opts.out, sourceOptions(opts)) : undefined;
    try {
      await merge(configPath, opts, s3);
    } catch (e) {
      throw s3 ? s3.explain(e) : e;
    } finally {
      await s3?.close();
    }
  });
}

/**
 * The merge itself. Into S3 (`s3`), a directory store is written below the prefix directly; a zip
 * is built in a temporary file, then uploaded as one object (multipart when large).
 */
async function merge(configPath: string, opts: MergeOptions, s3: S3Output | undefined): Promise<void> {
  const name = s3 ? s3.prefix : path.resolve(opts.out);
  const ozx = opts.ozx === true || /\.ozx$/i.test(name);
  const zip = ozx || /\.zip$/i.test(name);
  if (!ozx && opts.shard.length > 0) throw new UsageError("--shard only applies with --ozx (or use pack)");
  const scratch = s3 && zip ? await mkdtemp(path.join(tmpdir(), "shardedstore-s3-merge-")) : undefined;
  const out = scratch ? path.join(scratch, path.posix.basename(name)) : path.resolve(opts.out);
  try {
    if (s3) {
      await s3.check({ empty: !zip });
      if (zip && (await s3.root.size(s3.key(""))) !== undefined)
        throw new UsageError(`--out ${s3.url} already exists`);
    } else if (zip) {
      if ((await stat(out).catch(() => null)) !== null)
        throw new UsageError(`--out ${opts.out} already exists`);
    } else {
      await ensureEmpty(out, "--out");
    }
    const given: Record<string, number[]> = {};
    for (const s of opts.shard) {
      const { path: p, shape } = parseShardSpec(s);
      given[p] = shape;
    }
    const src = await openSource(configPath, sourceOptions(opts));
    const keys = await listAll(src.store);
    const plan = ozx ? await ozxPlan(src.store, keys, given, opts.shardBytes, configPath) : undefined;
    const tmp = zip ? `${out}.~partial-${randomBytes(4).toString("hex")}` : out;
    const target: Store = zip
      ? new ZipStore(tmp, { mode: "w" })
      : s3
        ? s3.store("")
        : new DirectoryStore(out);
    const bar = progressBar(opts, "merging");
    const [copied, ms] = await timed(async () => {
      bar.start(keys.length);
      try {
        let r: { keys: number; bytes: number };
        if (plan !== undefined) {
          const p = await packStore(src.store, target, {
            shards: plan.shards,
            concurrency: opts.concurrency,
            onBytes: () => bar.increment(),
          });
          r = { keys: p.keysOut, bytes: p.bytes };
        } else {
          r = await copyStore(src.store, target, {
            concurrency: opts.concurrency,
            onBytes: () => bar.increment(),
          });
        }
        await target.close?.();
        if (plan !== undefined) {
          await finishZip64WithComment(tmp, JSON.stringify({ ome: { version: plan.version } }));
        }
        if (zip && s3) await s3.uploadFile("", tmp);
        else if (zip) await rename(tmp, out);
        return r;
      } catch (e) {
        if (zip) {
          await (target as { discard?: () => Promise<void> }).discard?.().catch(() => {});
          await rm(tmp, { force: true });
        }
        throw e;
      } finally {
        bar.stop();
        await closeSource(src);
        if (s3 && !zip) await target.close?.();
        if (zip && s3) await rm(tmp, { force: true });
      }
    });
    const stores = src.kind === "config" ? (await src.sharded.shards()).length : 1;
    const format = ozx ? "ozx" : zip ? "zip" : "directory";
    if (opts.json) {
      await printJson({
        source: src.path,
        out: s3 ? s3.url : out,
        format,
        stores,
        keys: copied.keys,
        bytes: copied.bytes,
        ...(plan ? { packed: Object.keys(plan.shards).sort(), ome: plan.version } : {}),
        ms: Math.round(ms),
      });
      return;
    }
    await printLines([
      `Merged ${plural(stores, "store")} into ${ozx ? "one OME-Zarr zip (RFC-9)" : zip ? "one zip" : "one directory store"} in ${formatDuration(ms)}`,
      `  copied: ${plural(copied.keys, "key")}, ${formatBytes(copied.bytes)}`,
      ...(plan
        ? [`  packed: ${plural(Object.keys(plan.shards).length, "array")} with the sharding codec`]
        : []),
      `  out:    ${s3 ? s3.url : opts.out}`,
    ]);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
