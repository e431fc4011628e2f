// What the Python original (thewtex/shardedstore 0.3.1) would get wrong reading a config of ours.
import { DeferredMembers } from "./deferred-json.js";
import type { StoreConfig } from "./registry.js";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Stores of module "shardedstore" that the original can construct (its own class). */
const PYTHON_KNOWN = new Set(["shardedstore.ShardedStore"]);

/** An index id with an index ≥ 10 (the original reads the number of sharded dims from its length). */
const isBig = (id: string) => id.split(/[./]/).some((i) => i.length > 1);

/**
 * What the last complete pass over a watched `DeferredMembers` found: its first big index id and
 * the members that give warnings (in the usual config, none), so warnings need no second pass.
 */
interface Seen {
  big: string | undefined;
  warns: (readonly [string, unknown])[];
  done: boolean;
}
const seen = new WeakMap<DeferredMembers, Seen>();

/**
 * Deferred members (see `DeferredMembers`) that note, while they are made for writing, what
 * {@link pythonCompatibilityWarnings} needs of them: warnings for a saved config then cost no
 * second description of its 10^5 index stores. A pass left unfinished notes nothing.
 *
 * @example
 * ```ts
 * const m = watchedMembers(function* () { yield ["0.10", { name: "DirectoryStore", module: "zarr.storage", config: { args: ["a"], kwargs: {} } }] as const; });
 * JSON.stringify(m); // the pass that notes the index ≥ 10
 * ```
 */
export function watchedMembers(members: () => Iterable<readonly [string, unknown]>): DeferredMembers {
  const s: Seen = { big: undefined, warns: [], done: false };
  const watched = new DeferredMembers(function* () {
    s.done = false;
    s.big = undefined;
    s.warns = [];
    for (const m of members()) {
      if (s.big === undefined && isBig(m[0])) s.big = m[0];
      const found: string[] = [];
      walk(m[1], "", found);
      if (found.length > 0) s.warns.push(m);
      yield m;
    }
    s.done = true;
  });
  seen.set(watched, s);
  return watched;
}

function walk(config: unknown, where: string, out: string[]): void {
  if (!isObject(config) || !isObject(config.config)) return;
  const type = `${String(config.module)}.${String(config.name)}`;
  if (config.module === "shardedstore" && !PYTHON_KNOWN.has(type)) {
    out.push(
      `${where || "(root)"}: store type ${type} exists only in shardedstore (JS); the Python original cannot open it`,
    );
  }
  const args = Array.isArray(config.config.args) ? config.config.args : [];
  args.forEach((a, i) => {
    walk(a, `${where ? `${where}.` : ""}config.args[${i}]`, out);
  });
  if (type !== "shardedstore.ShardedStore") return;
  const kw = isObject(config.config.kwargs) ? config.config.kwargs : {};
  const at = (...parts: string[]) =>
    [where, "config.kwargs", ...parts.map((p) => (/^[A-Za-z_]\w*$/.test(p) ? p : JSON.stringify(p)))]
      .filter(Boolean)
      .join(".");
  for (const [p, s] of Object.entries(isObject(kw.shards) ? kw.shards : {})) walk(s, at("shards", p), out);
  const arrays = isObject(kw.array_shards) ? kw.array_shards : {};
  for (const [p, stores] of Object.entries(arrays)) {
    // Members written as they were made (saveShardedStore) were watched then; others are made
    // again here, one at a time.
    const noted = stores instanceof DeferredMembers ? seen.get(stores) : undefined;
    const pairs =
      noted?.done === true
        ? noted.warns
        : stores instanceof DeferredMembers
          ? stores.members()
          : isObject(stores)
            ? Object.entries(stores)
            : null;
    if (pairs === null) continue;
    let big = noted?.done === true ? noted.big : undefined;
    const inner: string[] = [];
    for (const [id, s] of pairs) {
      if (big === undefined && isBig(id)) big = id;
      walk(s, at("array_shards", p, id), inner);
    }
    if (big !== undefined) {
      out.push(
        `${at("array_shards", p)}: index "${big}" has an index ≥ 10; the Python original infers the number of sharded dimensions from the length of index keys, so it misreads this array (its chunks at such indices read as fill values or go to the wrong store)`,
      );
    }
    out.push(...inner);
  }
  const compact = isObject(kw.array_shard_indices) ? kw.array_shard_indices : {};
  for (const [p, boxes] of Object.entries(compact)) {
    if (Array.isArray(boxes) && boxes.length > 0) {
      out.push(
        `${at("array_shard_indices", p)}: compact form; the Python original reads only array_shards, so it sees none of these index stores (the array reads as fill values); save with form "expanded" for it`,
      );
    }
  }
}

/**
 * Why the Python original (thewtex/shardedstore 0.3.1 with zarr-python 2) would misread a config of
 * ours, one message per problem, each naming the member: index keys with an index ≥ 10 (the
 * original infers the sharded dimensions from key length), the compact `array_shard_indices` form
 * (it reads only `array_shards`), and store types only this package knows (FetchStore, S3Store,
 * MemoryStore, ZipStore over a URL). Empty when the original reads the config as we do (v3 arrays
 * aside: zarr-python 2 reads no v3 array). For `saveShardedStore` and the CLI to warn with.
 *
 * @example
 * ```ts
 * for (const w of pythonCompatibilityWarnings(store.toConfig())) console.warn(`warning: ${w}`);
 * ```
 */
export function pythonCompatibilityWarnings(config: StoreConfig | unknown): string[] {
  const out: string[] = [];
  walk(config, "", out);
  return out;
}
