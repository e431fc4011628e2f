import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import * as path from "node:path";
import { type Command, Option } from "commander";
import type { PackReport, ShardedStore, Store } from "../node.js";
import {
  DirectoryStore,
  packComposition,
  packStore,
  saveShardedStore,
  unpackComposition,
  unpackStore,
  ZipStore,
} from "../node.js";
import { collect, positiveInt, timed, withCommonOptions } from "./common.js";
import { UsageError } from "./errors.js";
import { inventory, readHierarchy } from "./hierarchy.js";
import { CONFIG_NAME, ensureEmpty, PREFIX_NAME } from "./layout.js";
import { closeSource, openSource } from "./open.js";
import { formatBytes, formatDuration, plural, printJson, printLines } from "./output.js";
import { type CommonOptions, progressBar } from "./progress.js";

interface PackCliOptions extends CommonOptions {
  out: string;
  shard: string[];
  to: "dir" | "zip";
  concurrency: number;
}

/**
 * Parses `--shard ARRAY:SHAPE` (SHAPE comma-separated, e.g. `volume/raw:64,512,512`).
 *
 * @example
 * ```ts
 * parseShardSpec("volume/raw:64,512,512"); // { path: "volume/raw", shape: [64, 512, 512] }
 * ```
 */
export function parseShardSpec(spec: string): { path: string; shape: number[] } {
  const m = /^(.*):(\d+(?:,\d+)*)$/.exec(spec);
  if (m === null) {
    throw new UsageError(`--shard ${JSON.stringify(spec)}: expected ARRAY:SHAPE, e.g. volume/raw:64,512,512`);
  }
  const parts = m[1]!.split("/").filter((s) => s !== "");
  if (parts.some((s) => s === "." || s === "..")) {
    throw new UsageError(
      `--shard ${JSON.stringify(spec)}: ${JSON.stringify(m[1])} is not a path inside the hierarchy`,
    );
  }
  const shape = m[2]!.split(",").map(Number);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    throw new UsageError(`--shard ${JSON.stringify(spec)}: every shard size must be a positive integer`);
  }
  return { path: parts.join("/"), shape };
}

const isZipPath = (p: string) => /\.(zip|ozx)$/i.test(p);

/** Writes one store through `write` into `out` (a directory, or a zip when it ends in .zip/.ozx), atomically. */
async function writeStoreAtomically(
  out: string,
  write: (to: Store) => Promise<PackReport>,
): Promise<PackReport> {
  const zip = isZipPath(out);
  if (zip) {
    if ((await stat(out).catch(() => null)) !== null) throw new UsageError(`--out ${out} already exists`);
  } else {
    await ensureEmpty(out, "--out");
    await rm(out, { recursive: true, force: true });
  }
  await mkdir(path.dirname(out), { recursive: true });
  const tmp = `${out}.~partial-${randomBytes(4).toString("hex")}`;
  const target: Store = zip ? new ZipStore(tmp, { mode: "w" }) : new DirectoryStore(tmp);
  try {
    const r = await write(target);
    await target.close?.();
    await rename(tmp, out);
    return r;
  } catch (e) {
    await (target as { discard?: () => Promise<void> }).discard?.().catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function objectCount(sharded: ShardedStore): Promise<{ keys: number; stores: number }> {
  const inv = await inventory(sharded, { bytes: false });
  return { keys: inv.reduce((a, s) => a + s.keys, 0), stores: inv.length };
}

function register(program: Command, unpack: boolean): void {
  const name = unpack ? "unpack" : "pack";
  let cmd = program
    .command(name)
    .description(
      unpack
        ? "rewrite arrays packed with the sharding_indexed codec as plain chunks (zarrita can write them again)"
        : "rewrite arrays with the Zarr v3 sharding_indexed codec (many chunks per object); v2 becomes v3",
    )
    .argument("<source>", "Zarr directory, zip file or composition config (.json)")
    .requiredOption(
      "--out <path>",
      `new directory (or .zip/.ozx file) for a store; for a config, a folder (stores under ${PREFIX_NAME}…, config ${CONFIG_NAME})`,
    );
  cmd = unpack
    ? cmd.option(
        "--array <path>",
        "only this packed array; repeatable (default: every packed array)",
        collect,
        [],
      )
    : cmd.option(
        "--shard <array:shape>",
        "pack ARRAY with shards of SHAPE (comma-separated multiples of its chunk shape); repeatable",
        collect,
        [],
      );
  withCommonOptions(
    cmd
      .addOption(
        new Option("--to <type>", "for a config: what each store becomes")
          .choices(["dir", "zip"])
          .default("dir"),
      )
      .option("--concurrency <n>", "values read or written at once", positiveInt, 8),
  ).action(async (source: string, opts: PackCliOptions & { array?: string[] }) => {
    const shards: Record<string, number[]> = {};
    for (const s of opts.shard ?? []) {
      const { path: p, shape } = parseShardSpec(s);
      if (p in shards) throw new UsageError(`--shard ${s}: array "${p}" is named twice`);
      shards[p] = shape;
    }
    if (!unpack && Object.keys(shards).length === 0)
      throw new UsageError("pack needs at least one --shard ARRAY:SHAPE");
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(opts.out))
      throw new UsageError(
        `--out ${opts.out}: ${unpack ? "unpack" : "pack"} writes a local folder or zip; write it locally, then \`shardedstore convert\` or \`merge\` it to s3://`,
      );
    const out = path.resolve(opts.out);
    const src = await openSource(source);
    const bar = progressBar(opts, unpack ? "unpacking" : "packing");
    let before = { keys: 0, stores: 1 };
    let after = { keys: 0, stores: 1 };
    let bytes = 0;
    let config: string | undefined;
    const [arrays, ms] = await timed(async () => {
      try {
        if (src.kind === "config") {
          if (isZipPath(out))
            throw new UsageError(`--out ${opts.out}: a config is packed into a folder; use --to zip`);
          if (path.resolve(out, CONFIG_NAME) === src.path) {
            throw new UsageError(`--out ${opts.out} would overwrite ${source}; choose another folder`);
          }
          before = await objectCount(src.sharded);
          const packedArrays = (await readHierarchy(src.store))
            .filter((n) => n.codecs?.includes("sharding_indexed"))
            .map((n) => n.path.slice(1));
          bar.start(before.stores);
          const o = {
            concurrency: opts.concurrency,
            zip: opts.to === "zip",
            onProgress: (e: { type: string; bytes?: number }) => {
              if (e.type === "bytes") bytes += e.bytes ?? 0;
              if (e.type === "shard-done" || e.type === "shard-skipped") bar.increment();
            },
          };
          await mkdir(out, { recursive: true });
          const prefix = path.join(out, PREFIX_NAME);
          const result = unpack
            ? await unpackComposition(src.sharded, prefix, o)
            : await packComposition(src.sharded, prefix, { ...o, shards });
          config = path.join(out, CONFIG_NAME);
          await saveShardedStore(result, config);
          after = await objectCount(result);
          await result.close();
          return unpack ? packedArrays : Object.keys(shards).sort();
        }
        const o = { concurrency: opts.concurrency, onBytes: (n: number) => (bytes += n) };
        const r = await writeStoreAtomically(out, (to) =>
          unpack
            ? unpackStore(src.store, to, { ...o, ...(opts.array?.length ? { arrays: opts.array } : {}) })
            : packStore(src.store, to, { ...o, shards }),
        );
        before = { keys: r.keysIn, stores: 1 };
        after = { keys: r.keysOut, stores: 1 };
        return r.arrays;
      } finally {
        bar.stop();
        await closeSource(src);
      }
    });
    const report = {
      source: src.path,
      out,
      ...(config !== undefined ? { config } : {}),
      arrays,
      keysBefore: before.keys,
      keysAfter: after.keys,
      stores: after.stores,
      bytes,
      ms: Math.round(ms),
    };
    if (opts.json) {
      await printJson(report);
      return;
    }
    await printLines([
      `${unpack ? "Unpacked" : "Packed"} ${plural(arrays.length, "array")} in ${formatDuration(ms)}: ${arrays.join(", ") || "(none)"}`,
      `  objects: ${plural(before.keys, "key")} → ${plural(after.keys, "key")} in ${plural(after.stores, "store")}`,
      `  written: ${formatBytes(bytes)}`,
      `  out:     ${path.relative(process.cwd(), config ?? out) || out}`,
    ]);
  });
}

/**
 * `shardedstore pack SOURCE --out OUT --shard ARRAY:SHAPE …`: rewrites arrays with the Zarr v3
 * `sharding_indexed` codec (Zarr v2 sources become v3); a config is packed store by store.
 *
 * @example
 * ```ts
 * registerPack(program); // shardedstore pack volume.zarr --out packed.zarr --shard raw:64,512,512
 * ```
 */
export function registerPack(program: Command): void {
  register(program, false);
}

/**
 * `shardedstore unpack SOURCE --out OUT [--array PATH …]`: the reverse of `pack`.
 *
 * @example
 * ```ts
 * registerUnpack(program); // shardedstore unpack packed.zarr --out plain.zarr
 * ```
 */
export function registerUnpack(program: Command): void {
  register(program, true);
}
