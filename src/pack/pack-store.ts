import { ArrayShardError, NotWritableError, StoreError } from "../errors.js";
import { compareMetadataKeys, forEachLimit, isMetadataDocument } from "../metadata-keys.js";
import type { AbsolutePath, Store } from "../types.js";
import { decodeShardIndex, encodeShard } from "./shard-format.js";
import {
  type ArrayGeometry,
  chunkKey,
  geometry,
  parseChunkKey,
  shardedMetadata,
  unshardedMetadata,
} from "./sharding-metadata.js";
import { type JsonObject, zarrayToV3, zgroupToV3 } from "./v2-metadata.js";

/**
 * Options of {@link packStore}.
 *
 * @example
 * ```ts
 * const options: PackOptions = { shards: { "volume/raw": [64, 512, 512] }, concurrency: 8 };
 * ```
 */
export interface PackOptions {
  /** Array path (no leading slash; `""` for a root array) → shard shape, a multiple of its chunk shape. */
  shards: Readonly<Record<string, readonly number[]>>;
  /** Values read or written at once (default 8). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called with the size of each value written. */
  onBytes?: (n: number) => void;
}

/**
 * What {@link packStore} or {@link unpackStore} wrote.
 *
 * @example
 * ```ts
 * const { keysIn, keysOut, arrays } = await packStore(from, to, { shards: { a: [4, 4] } });
 * ```
 */
export interface PackReport {
  /** Keys read from the source, and written to the target. */
  keysIn: number;
  keysOut: number;
  bytes: number;
  /** Arrays packed (or unpacked). */
  arrays: string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function label(store: Store): string {
  return String(store);
}

function requireList(store: Store): (prefix?: AbsolutePath) => AsyncIterable<AbsolutePath> {
  if (typeof store.list !== "function") {
    throw new StoreError(label(store), "list", "/", new Error("the source store cannot list its keys"));
  }
  return store.list.bind(store);
}

function requireSet(store: Store): (key: AbsolutePath, value: Uint8Array) => Promise<void> {
  if (typeof store.set !== "function") throw new NotWritableError(label(store), "/");
  const set = store.set.bind(store);
  return async (key, value) => {
    await set(key, value);
  };
}

const nodeOf = (key: string) => key.slice(1, key.lastIndexOf("/")); // "/a/b/zarr.json" → "a/b"

async function readJson(store: Store, key: AbsolutePath): Promise<unknown> {
  const bytes = await store.get(key);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw new StoreError(
      label(store),
      "parse",
      key,
      new Error("the metadata document is not valid JSON", { cause: e }),
    );
  }
}

/**
 * The hierarchy's metadata as v3 documents: node path → `zarr.json` content. Zarr v2 nodes are
 * converted (see {@link zarrayToV3}); `.zmetadata` (v2 consolidated metadata) is dropped.
 */
async function readV3Metadata(store: Store, list: (p?: AbsolutePath) => AsyncIterable<AbsolutePath>) {
  const keys: AbsolutePath[] = [];
  for await (const k of list()) if (isMetadataDocument(k)) keys.push(k);
  const docs = new Map<string, JsonObject>();
  const v2 = new Map<string, { zarray?: unknown; zgroup?: unknown; zattrs?: unknown }>();
  await forEachLimit(keys, 8, async (key) => {
    const name = key.slice(key.lastIndexOf("/") + 1);
    if (name === ".zmetadata") return;
    const doc = await readJson(store, key);
    if (doc === undefined) return;
    const node = nodeOf(key);
    if (name === "zarr.json") {
      docs.set(node, doc as JsonObject);
      return;
    }
    const entry = v2.get(node) ?? {};
    if (name === ".zarray") entry.zarray = doc;
    else if (name === ".zgroup") entry.zgroup = doc;
    else entry.zattrs = doc;
    v2.set(node, entry);
  });
  for (const [node, e] of v2) {
    if (docs.has(node)) continue;
    docs.set(node, e.zarray !== undefined ? zarrayToV3(node, e.zarray, e.zattrs) : zgroupToV3(e.zattrs));
  }
  return docs;
}

function arrayOf(key: AbsolutePath, arrays: ReadonlyMap<string, unknown>): string | undefined {
  let dir = key.slice(1);
  while (true) {
    const cut = dir.lastIndexOf("/");
    dir = cut === -1 ? "" : dir.slice(0, cut);
    if (arrays.has(dir)) return dir;
    if (dir === "") return undefined;
  }
}

const keyIn = (array: string, rel: string): AbsolutePath => (array === "" ? `/${rel}` : `/${array}/${rel}`);

async function writeMetadata(
  docs: ReadonlyMap<string, JsonObject>,
  set: (key: AbsolutePath, value: Uint8Array) => Promise<void>,
  onBytes: (n: number) => void,
): Promise<number> {
  const keys = [...docs.keys()].map((n): AbsolutePath => (n === "" ? "/zarr.json" : `/${n}/zarr.json`));
  keys.sort(compareMetadataKeys);
  for (const key of keys) {
    const bytes = encoder.encode(JSON.stringify(docs.get(nodeOf(key)), null, 2));
    await set(key, bytes);
    onBytes(bytes.byteLength);
  }
  return keys.length;
}

interface PackPlan {
  geometry: ArrayGeometry;
  /** Inner chunks per shard along each dimension. */
  per: number[];
  shards: Map<string, { index: number[]; chunks: { pos: number; key: AbsolutePath }[] }>;
}

/**
 * Copies the Zarr hierarchy in `from` (listable; v2 or v3) into `to` as Zarr v3, rewriting the
 * arrays named in `options.shards` with the `sharding_indexed` codec: each shard holds the source's
 * chunks verbatim (the source codecs inside the shard), its index at the end with
 * `[bytes little, crc32c]`; missing chunks stay missing, empty shards are not written. Zarr v2
 * nodes become v3 first (same chunk bytes under the same keys). Metadata documents are written
 * first, root then breadth-first. Bad arrays or shard shapes are an {@link ArrayShardError}.
 *
 * @example
 * ```ts
 * await packStore(new DirectoryStore("in.zarr"), new DirectoryStore("out.zarr"), { shards: { raw: [64, 512, 512] } });
 * ```
 */
export async function packStore(from: Store, to: Store, options: PackOptions): Promise<PackReport> {
  const list = requireList(from);
  const set = requireSet(to);
  const limit = options.concurrency ?? 8;
  const onBytes = (n: number) => {
    report.bytes += n;
    options.onBytes?.(n);
  };
  const report: PackReport = { keysIn: 0, keysOut: 0, bytes: 0, arrays: Object.keys(options.shards).sort() };
  const docs = await readV3Metadata(from, list);
  const plans = new Map<string, PackPlan>();
  for (const [path, shape] of Object.entries(options.shards)) {
    const p = path.replace(/^\/+|\/+$/g, "");
    const meta = docs.get(p);
    if (meta?.node_type !== "array") throw new ArrayShardError(p, "there is no array at this path to pack");
    const g = geometry(p, meta);
    docs.set(p, shardedMetadata(p, meta, shape));
    plans.set(p, { geometry: g, per: shape.map((s, d) => s / g.chunks[d]!), shards: new Map() });
  }
  report.keysOut += await writeMetadata(docs, set, onBytes);
  // Chunks of packed arrays are grouped by shard; every other non-metadata key is copied as is.
  await forEachLimit(
    list(),
    limit,
    async (key) => {
      if (isMetadataDocument(key)) {
        report.keysIn++;
        return;
      }
      const array = arrayOf(key, plans);
      const plan = array === undefined ? undefined : plans.get(array);
      const rel = array === undefined ? "" : key.slice(array === "" ? 1 : array.length + 2);
      const index = plan === undefined ? null : parseChunkKey(rel, plan.geometry.shape.length, plan.geometry);
      if (plan === undefined || index === null) {
        const value = await from.get(key);
        if (value === undefined) return;
        report.keysIn++;
        await set(key, value);
        report.keysOut++;
        onBytes(value.byteLength);
        return;
      }
      const shard = index.map((i, d) => Math.floor(i / plan.per[d]!));
      let pos = 0;
      index.forEach((i, d) => {
        pos = pos * plan.per[d]! + (i % plan.per[d]!);
      });
      const sk = chunkKey(shard, plan.geometry);
      let entry = plan.shards.get(sk);
      if (entry === undefined) {
        entry = { index: shard, chunks: [] };
        plan.shards.set(sk, entry);
      }
      entry.chunks.push({ pos, key });
    },
    options.signal,
  );
  for (const [array, plan] of plans) {
    const count = plan.per.reduce((a, b) => a * b, 1);
    await forEachLimit(
      plan.shards,
      limit,
      async ([sk, { chunks }]) => {
        const inner: (Uint8Array | undefined)[] = new Array(count).fill(undefined);
        // Reads within a shard are bounded too: a shard may hold thousands of chunks.
        await forEachLimit(chunks, 8, async ({ pos, key }) => {
          inner[pos] = await from.get(key);
        });
        const present = inner.filter((c) => c !== undefined).length;
        if (present === 0) return;
        report.keysIn += present;
        const shard = encodeShard(inner);
        await set(keyIn(array, sk), shard);
        report.keysOut++;
        onBytes(shard.byteLength);
      },
      options.signal,
    );
    plan.shards.clear();
  }
  return report;
}

/**
 * The reverse of {@link packStore}: copies the hierarchy in `from` into `to`, rewriting every array
 * packed with one `sharding_indexed` codec (or only those in `options.arrays`) as plain chunks under
 * the array's chunk key encoding, byte for byte the inner chunks; the arrays can be written again by
 * zarrita. A damaged shard (bad index checksum, an entry outside the shard) is a
 * {@link ArrayShardError} naming the array and the key.
 *
 * @example
 * ```ts
 * await unpackStore(new DirectoryStore("packed.zarr"), new DirectoryStore("plain.zarr"));
 * ```
 */
export async function unpackStore(
  from: Store,
  to: Store,
  options: {
    arrays?: readonly string[];
    concurrency?: number;
    signal?: AbortSignal;
    onBytes?: (n: number) => void;
  } = {},
): Promise<PackReport> {
  const list = requireList(from);
  const set = requireSet(to);
  const limit = options.concurrency ?? 8;
  const report: PackReport = { keysIn: 0, keysOut: 0, bytes: 0, arrays: [] };
  const onBytes = (n: number) => {
    report.bytes += n;
    options.onBytes?.(n);
  };
  const docs = await readV3Metadata(from, list);
  const wanted = options.arrays?.map((p) => p.replace(/^\/+|\/+$/g, ""));
  const plans = new Map<string, ReturnType<typeof unshardedMetadata> & { g: ArrayGeometry; per: number[] }>();
  for (const p of wanted ?? [...docs.keys()]) {
    const meta = docs.get(p);
    if (meta?.node_type !== "array") {
      if (wanted !== undefined) throw new ArrayShardError(p, "there is no array at this path to unpack");
      continue;
    }
    const codecs = meta.codecs;
    const packed =
      Array.isArray(codecs) && codecs.length === 1 && (codecs[0] as JsonObject)?.name === "sharding_indexed";
    if (!packed) {
      if (wanted !== undefined) throw new ArrayShardError(p, "the array is not packed");
      continue;
    }
    const u = unshardedMetadata(p, meta);
    const g = geometry(p, meta);
    docs.set(p, u.meta);
    plans.set(p, { ...u, g, per: u.shardShape.map((s, d) => s / u.innerChunks[d]!) });
  }
  report.arrays = [...plans.keys()].sort();
  report.keysOut += await writeMetadata(docs, set, onBytes);
  await forEachLimit(
    list(),
    limit,
    async (key) => {
      report.keysIn++;
      if (isMetadataDocument(key)) return;
      const array = arrayOf(key, plans);
      const plan = array === undefined ? undefined : plans.get(array);
      const rel = array === undefined ? "" : key.slice(array === "" ? 1 : array.length + 2);
      const shard = plan === undefined ? null : parseChunkKey(rel, plan.g.shape.length, plan.g);
      const value = await from.get(key);
      if (value === undefined) return;
      if (plan === undefined || shard === null || array === undefined) {
        await set(key, value);
        report.keysOut++;
        onBytes(value.byteLength);
        return;
      }
      const count = plan.per.reduce((a, b) => a * b, 1);
      let entries: ReturnType<typeof decodeShardIndex>;
      try {
        entries = decodeShardIndex(value, count, { location: plan.location, checksum: plan.checksum });
      } catch (e) {
        throw new ArrayShardError(array, `shard ${JSON.stringify(key)}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      const ndim = plan.per.length;
      for (let pos = 0; pos < count; pos++) {
        const entry = entries[pos];
        if (entry === null || entry === undefined) continue;
        const index = new Array<number>(ndim);
        let rest = pos;
        for (let d = ndim - 1; d >= 0; d--) {
          index[d] = shard[d]! * plan.per[d]! + (rest % plan.per[d]!);
          rest = Math.floor(rest / plan.per[d]!);
        }
        const chunk = value.slice(entry.offset, entry.offset + entry.nbytes);
        await set(keyIn(array, chunkKey(index, plan.g)), chunk);
        report.keysOut++;
        onBytes(chunk.byteLength);
      }
    },
    options.signal,
  );
  return report;
}
