import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { type Command, Option } from "commander";
import { eachLimit } from "../each-limit.js";
import type { ArrayShardSpec, Store } from "../node.js";
import {
  arrayShardDirectoryStore,
  arrayShardZipStore,
  DirectoryStore,
  MemoryStore,
  ShardedStore,
  saveShardedStore,
  ZipStore,
} from "../node.js";
import { collect, positiveInt, timed, withCommonOptions } from "./common.js";
import { copyKeys } from "./copy.js";
import { UsageError } from "./errors.js";
import { isMetadataKey, listAll, type NodeInfo, readHierarchy } from "./hierarchy.js";
import { CONFIG_NAME, dirPathFor, ensureEmpty, PREFIX_NAME, relPathFor } from "./layout.js";
import { closeSource, openSource, sourceOptions, withSourceOptions } from "./open.js";
import { formatBytes, formatDuration, plural, printJson, printLines, warn } from "./output.js";
import { localParts, type Part, type PartStore, parsePart, partOf, storeId } from "./parts.js";
import { type CommonOptions, progressBar } from "./progress.js";
import { saveS3Config } from "./s3-config.js";
import { isS3Location, S3Output } from "./s3-out.js";

interface ReshardOptions extends CommonOptions {
  out: string;
  group: string[];
  array: string[];
  shardType: "dir" | "zip";
  concurrency: number;
  part?: Part;
}

function cleanPath(p: string, flag: string): string {
  const parts = p.split("/").filter((s) => s !== "");
  if (parts.length === 0 || parts.some((s) => s === "." || s === "..")) {
    throw new UsageError(`${flag} ${JSON.stringify(p)} is not a path inside the hierarchy`);
  }
  return parts.join("/");
}

/**
 * Parses `--array PATH:DIMS` and checks it against the source's metadata: the array exists and its
 * chunk size is 1 along each sharded dimension.
 *
 * @example
 * ```ts
 * parseArraySpec("simulation/fine/foo:2", nodes); // { path: "simulation/fine/foo", dims: 2 }
 * ```
 */
export function parseArraySpec(spec: string, nodes: readonly NodeInfo[]): { path: string; dims: number } {
  const m = /^(.+):(\d+)$/.exec(spec);
  if (m === null)
    throw new UsageError(`--array ${JSON.stringify(spec)}: expected PATH:DIMS, e.g. simulation/fine/foo:2`);
  const p = cleanPath(m[1]!, "--array");
  const dims = Number(m[2]);
  const node = nodes.find((n) => n.path === `/${p}`);
  if (node === undefined || node.kind !== "array") {
    throw new UsageError(`--array ${spec}: there is no array "${p}" in the source`);
  }
  const chunks = node.chunks ?? [];
  if (dims < 1 || dims > chunks.length) {
    throw new UsageError(
      `--array ${spec}: DIMS must be between 1 and ${chunks.length} (the array's dimensions)`,
    );
  }
  const bad = chunks.slice(0, dims).findIndex((c) => c !== 1);
  if (bad !== -1) {
    throw new UsageError(
      `--array ${spec}: the chunk size along dimension ${bad} is ${chunks[bad]}; only leading dimensions chunked by 1 can be sharded`,
    );
  }
  return { path: p, dims };
}

/**
 * `shardedstore reshard SOURCE --out DIR`: copies a monolithic Zarr store (directory, zip or
 * config; v2 or v3) into a sharded layout of directories or zips, and writes `DIR/composition.json`.
 *
 * @example
 * ```ts
 * registerReshard(program); // shardedstore reshard single.zarr --out out --group people --array simulation/fine/foo:2
 * ```
 */
export function registerReshard(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("reshard"))
      .description(
        `copy a Zarr store (directory, zip or config; v2 or v3) into a sharded layout; writes DIR/${CONFIG_NAME}`,
      )
      .argument("<source>", "Zarr directory, zip file or composition config (.json)")
      .requiredOption("--out <dir>", "output folder, or s3://bucket/prefix (must be new or empty)")
      .option("--group <path>", "make this group (or array) a group shard; repeatable", collect, [])
      .option(
        "--array <path:dims>",
        "split this array's chunks by its first DIMS chunk indices; repeatable",
        collect,
        [],
      )
      .addOption(
        new Option("--shard-type <type>", "what each store is").choices(["dir", "zip"]).default("dir"),
      )
      .option("--concurrency <n>", "values copied at once", positiveInt, 8)
      .option(
        "--part <K/N>",
        "write only the stores of part K of N (a deterministic split; run every part into the same --out, then `shardedstore finalize DIR`)",
        parsePart,
      ),
  ).action(async (sourcePath: string, opts: ReshardOptions) => {
    const src = await openSource(sourcePath, sourceOptions(opts));
    const keys = await listAll(src.store);
    const nodes = await readHierarchy(src.store, keys);
    const groups = opts.group.map((g) => {
      const p = cleanPath(g, "--group");
      if (!nodes.some((n) => n.path === `/${p}`)) {
        throw new UsageError(`--group ${g}: there is no group or array "${p}" in the source`);
      }
      return p;
    });
    const arrays = opts.array.map((a) => parseArraySpec(a, nodes));
    // Into S3: the stores are written in a temporary folder, then uploaded (see publishToS3).
    const s3 = isS3Location(opts.out) ? S3Output.parse(opts.out, sourceOptions(opts)) : undefined;
    const out = s3 ? await mkdtemp(path.join(tmpdir(), "shardedstore-s3-reshard-")) : path.resolve(opts.out);
    const place = s3 ? s3.parts() : localParts(out);
    const part = opts.part;
    try {
      if (s3) await s3.check({ empty: part === undefined });
      if (part !== undefined) {
        const done = await place.read(part);
        if (done?.complete) {
          await closeSource(src);
          await printLines([
            `Part ${part.k}/${part.n} was already complete (${plural(done.stores.length, "store")})`,
          ]);
          return;
        }
      } else if (!s3) {
        await ensureEmpty(out, "--out");
      }
      await mkdir(out, { recursive: true });
      const prefix = path.join(out, PREFIX_NAME);
      const zip = opts.shardType === "zip";
      // With --part, the stores of other parts are kept in memory and dropped.
      const owned = (kind: "base" | "group" | "array", mount: string, index?: readonly number[]) =>
        part === undefined || partOf(storeId(kind, mount, index), part.n) === part.k;
      const open = (mount: string): Store =>
        !owned(mount === "" ? "base" : "group", mount)
          ? new MemoryStore()
          : zip
            ? new ZipStore(`${dirPathFor(prefix, mount)}.zip`, { mode: "w" })
            : new DirectoryStore(dirPathFor(prefix, mount));
      const realFactory = (mount: string) =>
        zip
          ? arrayShardZipStore(path.join(prefix, mount))
          : arrayShardDirectoryStore(path.join(prefix, mount));
      const factory = (mount: string) => {
        const real = realFactory(mount);
        if (part === undefined) return real;
        return Object.assign(
          (index: readonly number[]) => (owned("array", mount, index) ? real(index) : new MemoryStore()),
          { factorySpec: real.factorySpec },
        );
      };
      const partManifest = {
        command: "reshard" as const,
        source: src.path,
        type: opts.shardType,
        part: part?.k ?? 1,
        of: part?.n ?? 1,
        groups: [...groups].sort(),
        arrays: Object.fromEntries(arrays.map((a) => [a.path, a.dims])),
      };
      if (part !== undefined) await place.write({ ...partManifest, complete: false, stores: [] });
      const target = new ShardedStore(open(""), {
        shards: Object.fromEntries(groups.map((g) => [g, open(g)])),
        arrayShards: Object.fromEntries(
          arrays.map((a) => [a.path, { dims: a.dims, factory: factory(a.path) }]),
        ),
      });
      const bar = progressBar(opts, "copying keys");
      const [copied, ms] = await timed(async () => {
        bar.start(keys.length);
        try {
          if (part === undefined) {
            return await copyKeys(src.store, target, keys, {
              concurrency: opts.concurrency,
              onKey: () => bar.increment(),
            });
          }
          // Metadata everywhere (so the composition knows every array's layout), data only where owned.
          const meta = keys.filter(isMetadataKey);
          const m = await copyKeys(src.store, target, meta, {
            concurrency: opts.concurrency,
            onKey: () => bar.increment(),
          });
          const mine = keys.filter((k) => {
            if (isMetadataKey(k)) return false;
            const r = target.resolve(k);
            return owned(r.kind, r.mount, r.index);
          });
          const d = await copyKeys(src.store, target, mine, {
            concurrency: opts.concurrency,
            onKey: () => bar.increment(),
          });
          return { keys: m.keys + d.keys, bytes: m.bytes + d.bytes };
        } finally {
          bar.stop();
          await closeSource(src);
        }
      });
      const entries = (await target.shards()).filter((e) => !(e.store instanceof MemoryStore));
      await target.close();
      const stores: PartStore[] = entries.map((e) => ({
        kind: e.kind,
        mount: e.mount,
        ...(e.index ? { index: [...e.index] } : {}),
        path: s3
          ? relPathFor(e.mount, e.index, zip)
          : `${dirPathFor(prefix, e.mount, e.index)}${zip ? ".zip" : ""}`,
      }));
      stores.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      if (s3) await publishToS3(s3, out, stores, zip, opts.concurrency);
      if (part !== undefined) {
        await place.write({ ...partManifest, complete: true, stores });
        const report = {
          part: part.k,
          of: part.n,
          stores: stores.length,
          keys: copied.keys,
          bytes: copied.bytes,
          ms: Math.round(ms),
        };
        if (opts.json) await printJson(report);
        else
          await printLines([
            `Resharded part ${part.k}/${part.n}: ${plural(stores.length, "store")}, ${plural(copied.keys, "key")}, ${formatBytes(copied.bytes)} in ${formatDuration(ms)}`,
            `  next: when every part is complete, shardedstore finalize ${opts.out}`,
          ]);
        return;
      }
      let config: string;
      if (s3) {
        await saveS3Config(s3, opts.shardType, partManifest, stores, { onWarning: warn });
        config = s3.where(CONFIG_NAME);
      } else {
        // Zips written here are saved (and reopen) read-only; arrays can still grow through their factory.
        let saved = target;
        if (zip) {
          const ro = (s: Store) => new ZipStore((s as ZipStore).path!, { mode: "r" });
          const arrayShards: Record<string, ArrayShardSpec> = {};
          for (const a of arrays) {
            arrayShards[a.path] = {
              dims: a.dims,
              factory: factory(a.path),
              stores: entries
                .filter((e) => e.kind === "array" && e.mount === a.path)
                .map((e) => ({ index: e.index!, store: ro(e.store) })),
            };
          }
          saved = new ShardedStore(ro(target.base), {
            shards: Object.fromEntries([...target.shardMounts].map(([m, s]) => [m, ro(s)])),
            arrayShards,
          });
        }
        config = path.join(out, CONFIG_NAME);
        await saveShardedStore(saved, config, { onWarning: warn });
      }
      const counts = {
        groupShards: groups.length,
        arrayShardStores: entries.filter((e) => e.kind === "array").length,
      };
      if (opts.json) {
        await printJson({
          source: src.path,
          config,
          shardType: opts.shardType,
          keys: copied.keys,
          bytes: copied.bytes,
          stores: entries.length,
          ...counts,
          ms: Math.round(ms),
        });
        return;
      }
      await printLines([
        `Resharded ${sourcePath} into ${plural(entries.length, opts.shardType === "zip" ? "zip store" : "directory store")} in ${formatDuration(ms)}`,
        `  copied:  ${plural(copied.keys, "key")}, ${formatBytes(copied.bytes)}`,
        `  stores:  1 base, ${plural(counts.groupShards, "group shard")}, ${plural(counts.arrayShardStores, "array-shard store")} (${plural(arrays.length, "sharded array")})`,
        `  config:  ${s3 ? config : path.relative(process.cwd(), config) || config}`,
      ]);
    } catch (e) {
      throw s3 ? s3.explain(e) : e;
    } finally {
      if (s3) {
        await s3.close();
        await rm(out, { recursive: true, force: true });
      }
    }
  });
}

/**
 * Uploads the stores a reshard wrote in the temporary folder `local` to the S3 output: each zip as
 * one object, each directory below its own prefix; each marked complete after its last object.
 */
async function publishToS3(
  s3: S3Output,
  local: string,
  stores: readonly PartStore[],
  zip: boolean,
  concurrency: number,
): Promise<void> {
  const found = await s3.survey();
  await eachLimit(stores, concurrency, async (s) => {
    const file = path.join(local, s.path);
    if (zip) {
      const size = await s3.uploadFile(s.path, file);
      await s3.markDone(s.path, { size });
    } else {
      const { keys } = await s3.copyInto(s.path, new DirectoryStore(file), { clean: found.occupied(s.path) });
      await s3.markDone(s.path, { keys });
    }
  });
}
