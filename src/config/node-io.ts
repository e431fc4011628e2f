import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import type { ShardedStore } from "../sharded-store.js";
import { shardedStoreFromConfig, shardedStoreToConfig } from "./codec.js";
import { factorySpecOf } from "./factories.js";
import { writeJson } from "./json-writer.js";
import { isRemoteUrl } from "./locations.js";
import { allPackedTaken, readConfigFile } from "./node-expanded-read.js";
import { type OpenOptions, openShardedStoreFromUrl } from "./open-url.js";
import { pythonCompatibilityWarnings, watchedMembers } from "./python-compat.js";
import type { StoreConfig } from "./registry.js";

/**
 * Opens a composition from its config: a path, a `file://` URL, an `http(s)://` URL or an `s3://`
 * URL. Relative locations resolve against the config's folder, so a folder holding a config and
 * its stores can be moved, or served, and still opens. With `confine`, nothing outside that folder
 * (symbolic links resolved) is opened, nor URLs unless `allowUrls`.
 *
 * @example
 * ```ts
 * const store = await openShardedStore("data/composition.json", { confine: true });
 * const remote = await openShardedStore("https://example.com/demo/sharded/composition.json");
 * ```
 */
export async function openShardedStore(configPath: string, options: OpenOptions = {}): Promise<ShardedStore> {
  if (isRemoteUrl(configPath)) return openShardedStoreFromUrl(configPath, options);
  if (/^file:/i.test(configPath)) {
    try {
      configPath = fileURLToPath(configPath);
    } catch (e) {
      throw new ConfigError("(file)", `cannot read ${configPath}: ${(e as Error).message}`, { cause: e });
    }
  }
  const from = { ...options, baseDir: path.dirname(path.resolve(configPath)) };
  // A big config is read split, through a window (its index stores' entries one by one, packable
  // ones packed); should an array's packer not have taken what was packed for it, the config is read
  // again whole.
  const json = await readConfigFile(configPath);
  const store = shardedStoreFromConfig(json, from);
  if (allPackedTaken(json)) return store;
  await store.close();
  return shardedStoreFromConfig(
    await readConfigFile(configPath, { threshold: Number.POSITIVE_INFINITY }),
    from,
  );
}

/**
 * Options of {@link saveShardedStore}.
 *
 * @example
 * ```ts
 * const opts: SaveOptions = { form: "expanded", onWarning: (w) => console.warn(`warning: ${w}`) };
 * ```
 */
export interface SaveOptions {
  /** How index stores are written (see `ToConfigOptions.form`); `"auto"` by default. */
  form?: "auto" | "compact" | "expanded";
  /** Called with each way the Python original would misread the saved config (v2 arrays only). */
  onWarning?: (message: string) => void;
}

/**
 * Saves a composition's config to a file (atomically: a temporary file renamed over it; the folder
 * is created if needed), with paths below the file's folder written relative to it. Every index
 * store of every array shard is found first (O(index stores that exist)). Returns the ways the
 * Python original would misread the config, for compositions it could otherwise read (any v2 array
 * or none at all; see `pythonCompatibilityWarnings`), and passes each to `onWarning`.
 *
 * @example
 * ```ts
 * const warnings = await saveShardedStore(store, "data/composition.json", { form: "expanded" });
 * ```
 */
export async function saveShardedStore(
  store: ShardedStore,
  configPath: string,
  options: SaveOptions = {},
): Promise<string[]> {
  const file = path.resolve(configPath);
  // Every index store is found (none opened); those of factories a config cannot name (functions of
  // one's own, maybe asynchronous) are opened too, to be described one by one.
  if ([...store.arrayMounts.values()].some((m) => factorySpecOf(m.factory) === undefined))
    await store.shards();
  else await store.shardsOnDemand({ record: true });
  // Index stores listed one by one are described while the file is written, never all at once.
  const config = shardedStoreToConfig(store, {
    relativeTo: path.dirname(file),
    ...(options.form !== undefined ? { form: options.form } : {}),
    // Watched: the Python-compatibility warnings below come from this pass, not a second one.
    deferMembers: (members) => watchedMembers(members) as unknown as Record<string, StoreConfig>,
  });
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  await mkdir(path.dirname(file), { recursive: true });
  try {
    const out = await open(tmp, "w");
    try {
      await writeJson(config, async (text) => {
        await out.writeFile(text);
      });
      await out.writeFile("\n");
    } finally {
      await out.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  // zarr-python 2 reads no v3 array: a composition of v3 arrays only is not the original's to read.
  const layouts = [...store.arrayMounts.values()].map((m) => m.layout?.format);
  const v3Only = layouts.length > 0 && layouts.every((f) => f === 3);
  const warnings = v3Only ? [] : pythonCompatibilityWarnings(config);
  for (const w of warnings) options.onWarning?.(w);
  return warnings;
}
