// Reading a big expanded config (Node) without building its whole tree: the text is split at the
// members of `config.kwargs.array_shards`, each index store's entry is parsed on its own, and those
// that are exactly their array's declared factory's index stores (as pack-entries.ts packs them)
// are kept as index tuples only. JSON.parse still parses every byte; this only splits the text.
import { Buffer } from "node:buffer";
import type { FactorySpec } from "./factories.js";
import { INDEX_SUFFIX, inferFactory, isUrlLike } from "./factories.js";
import { isFactoryEntry, type PrePacked, prePacked, sameButPath } from "./pack-entries.js";
import type { StoreConfig } from "./registry.js";

/** Below this many bytes a config is parsed whole (its tree is small). */
export const SPLIT_THRESHOLD = 1 << 20;

/** The text does not have the shape the splitter reads: parse it whole (JSON.parse says why). */
class Unsplittable extends Error {}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

function ws(b: Uint8Array, i: number): number {
  while (i < b.length && WS[b[i]!] === 1) i++;
  return i;
}

function expect(b: Uint8Array, i: number, c: number): number {
  if (b[i] !== c) throw new Unsplittable();
  return i + 1;
}

/** End of the string starting at `i` (a `"`): past its closing quote (found natively). */
function stringEnd(b: Uint8Array, i: number): number {
  for (let j = i + 1; ; ) {
    const q = b.indexOf(0x22, j);
    if (q === -1) throw new Unsplittable();
    let k = q - 1;
    while (b[k] === 0x5c) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1; // an even run of backslashes: the quote closes
    j = q + 1;
  }
}

/** End of the JSON value starting at `i` (not checked: the caller parses it). */
function valueEnd(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === 0x22) return stringEnd(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < b.length; j++) {
      const d = b[j]!;
      if (d === 0x22) j = stringEnd(b, j) - 1;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new Unsplittable();
  }
  let j = i;
  while (j < b.length && b[j] !== 0x2c && b[j] !== 0x7d && b[j] !== 0x5d && WS[b[j]!] !== 1) j++;
  if (j === i) throw new Unsplittable();
  return j;
}

/** A member's key (`i` at its opening quote), decoded as JSON.parse would, and where it ends. */
function keyAt(
  b: Uint8Array,
  text: (s: number, e: number) => string,
  i: number,
): { key: string; end: number } {
  if (b[i] !== 0x22) throw new Unsplittable();
  const end = stringEnd(b, i);
  for (let j = i + 1; j < end - 1; j++) {
    const c = b[j]!;
    if (c < 0x20) throw new Unsplittable(); // JSON.parse refuses it: let it say so
    if (c === 0x5c) return { key: JSON.parse(text(i, end)) as string, end };
  }
  return { key: text(i + 1, end - 1), end };
}

/**
 * Walks the members of the object at `i`, in order: `visit(key, start)` gets each key and where its
 * value starts, and returns where the value ends — or -1 to have it skipped. With `unique`, a
 * repeated key is not split (JSON.parse keeps the last value where the first stood). Returns the
 * object's end.
 */
function walk(
  b: Uint8Array,
  text: (s: number, e: number) => string,
  i: number,
  unique: boolean,
  visit: (key: string, start: number) => number,
): number {
  const keys = unique ? new Set<string>() : null;
  i = ws(b, expect(b, i, 0x7b));
  if (b[i] === 0x7d) return i + 1;
  for (;;) {
    const k = keyAt(b, text, i);
    if (keys !== null) {
      if (keys.has(k.key)) throw new Unsplittable();
      keys.add(k.key);
    }
    i = ws(b, expect(b, ws(b, k.end), 0x3a));
    const visited = visit(k.key, i);
    i = ws(b, visited === -1 ? valueEnd(b, i) : visited);
    if (b[i] === 0x7d) return i + 1;
    i = ws(b, expect(b, i, 0x2c));
  }
}

/**
 * `"12"`, `"0.3"`, `"4/0/1"` → the tuple and its separator ("" for one index); null for anything
 * else (a leading zero, two separators, over 15 digits): such ids are left to the codec.
 */
function indexOf(id: string): { index: number[]; sep: string } | null {
  const index: number[] = [];
  let sep = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= id.length; i++) {
    const c = i < id.length ? id.charCodeAt(i) : -1;
    if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return null; // a leading zero
      value = value * 10 + (c - 48);
      if (++digits > 15) return null;
      continue;
    }
    if (digits === 0 || (c !== -1 && c !== 46 && c !== 47) || (c !== -1 && sep !== 0 && c !== sep))
      return null;
    index.push(value);
    if (c === -1) break;
    sep = c;
    value = 0;
    digits = 0;
  }
  return { index, sep: sep === 0 ? "" : String.fromCharCode(sep) };
}

/**
 * Parses a config's text, splitting a big one (see the file comment): the same value as
 * `JSON.parse(text)` except that the entries of packable index stores are left out of
 * `array_shards` and recorded in {@link prePacked} under their array's entries object, for the
 * array's packer to take. Any text it does not read as plainly as that (a repeated key, a nested
 * composition's arrays, an index it would have to judge) is parsed whole, so errors are JSON.parse's
 * and the config codec's, as before.
 *
 * @example
 * ```ts
 * const json = parseConfigText(await readFile("composition.json"));
 * ```
 */
export function parseConfigText(buf: Uint8Array, threshold = SPLIT_THRESHOLD): unknown {
  // Decoded as readFile(…, "utf8") does (a byte-order mark is kept, and JSON.parse refuses it).
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const text = (s: number, e: number) => bytes.toString("utf8", s, e);
  if (buf.length >= threshold) {
    try {
      return split(buf, text);
    } catch {
      // Unsplittable, or a part JSON.parse refuses, or a value of a shape the codec will name:
      // the whole text is parsed, and its errors are the ones reported.
    }
  }
  return JSON.parse(text(0, buf.length));
}

function split(b: Uint8Array, text: (s: number, e: number) => string): unknown {
  // One descent to config.kwargs.array_shards (its members are read below): other values are skipped.
  let shards = -1;
  let shardsEnd = -1;
  const into = (want: string, then: (start: number) => number) => (key: string, start: number) =>
    key === want ? then(start) : -1;
  const top = walk(
    b,
    text,
    ws(b, 0),
    true,
    into("config", (c) =>
      walk(
        b,
        text,
        c,
        true,
        into("kwargs", (k) =>
          walk(
            b,
            text,
            k,
            true,
            into("array_shards", (start) => {
              shards = start;
              shardsEnd = valueEnd(b, start);
              return shardsEnd;
            }),
          ),
        ),
      ),
    ),
  );
  if (ws(b, top) !== b.length || shards === -1 || b[shards] !== 0x7b) throw new Unsplittable();
  const json = JSON.parse(`${text(0, shards)}{}${text(shardsEnd, b.length)}`) as StoreConfig;
  if (json.name !== "ShardedStore") throw new Unsplittable();
  const kw = json.config.kwargs as {
    array_shards: Record<string, unknown>;
    array_shard_dims?: Record<string, unknown>;
    array_shard_factories?: Record<string, Partial<FactorySpec>>;
    array_shard_indices?: Record<string, unknown>;
  };
  const rebuilt: Record<string, unknown> = {};
  walk(b, text, shards, true, (path, start) => {
    if (b[start] !== 0x7b) {
      const end = valueEnd(b, start);
      rebuilt[path] = JSON.parse(text(start, end));
      return end;
    }
    const declared = kw.array_shard_dims?.[path];
    let dims = typeof declared === "number" ? declared : undefined;
    const kept: Record<string, unknown> = {};
    const seen = new Set<string>();
    let pre: PrePacked | undefined;
    let pk: FactorySpec | undefined;
    let first = true;
    // Ids repeated are caught by `seen` (an index) or, like JSON.parse, keep the last value.
    const end = walk(b, text, start, false, (id, at) => {
      const end = valueEnd(b, at);
      const value = JSON.parse(text(at, end)) as StoreConfig;
      if (first) {
        first = false;
        pk = packingSpec(kw, path, value, id);
      }
      const parsed = indexOf(id);
      if (parsed !== null) {
        // Index tuples the codec would refuse (another length, the same index twice) are its to name.
        dims ??= parsed.index.length;
        const key = parsed.index.join(",");
        if (parsed.index.length !== dims || seen.has(key)) throw new Unsplittable();
        seen.add(key);
      }
      if (pk !== undefined && parsed !== null && pre !== undefined && parsed.sep === pre.sep) {
        if (isFactoryEntry(pk, parsed.index, value) && sameButPath(pre.template, value)) {
          pre.tuples.push(parsed.index);
          return end;
        }
      } else if (
        pk !== undefined &&
        parsed !== null &&
        pre === undefined &&
        isFactoryEntry(pk, parsed.index, value)
      ) {
        pre = { spec: pk, template: value, sep: parsed.sep, tuples: [], taken: false };
      }
      kept[id] = value;
      return end;
    });
    rebuilt[path] = kept;
    if (pre !== undefined && pre.tuples.length > 0) prePacked.set(kept, pre);
    return end;
  });
  kw.array_shards = rebuilt;
  return json;
}

/**
 * The factory an array's entries are packed against: the declared one, or (as the codec infers it
 * for the Python original's configs) the one its first entry's path shows — the codec's own
 * inference over the entries kept must then agree, or nothing is taken. Undefined when its entries
 * cannot be packed (no such factory, a URL prefix, or index boxes given).
 */
function packingSpec(
  kw: { array_shard_factories?: Record<string, Partial<FactorySpec>>; array_shard_indices?: object },
  path: string,
  first: StoreConfig,
  id: string,
): FactorySpec | undefined {
  const spec = Object.hasOwn(kw.array_shard_factories ?? {}, path)
    ? kw.array_shard_factories?.[path]
    : inferFactory({ [id]: first });
  if (
    spec === undefined ||
    typeof spec.kind !== "string" ||
    INDEX_SUFFIX[spec.kind] === undefined ||
    typeof spec.prefix !== "string" ||
    isUrlLike(spec.prefix) ||
    (spec.separator !== "/" && spec.separator !== ".") ||
    Object.hasOwn(kw.array_shard_indices ?? {}, path)
  )
    return undefined;
  return spec as FactorySpec;
}

/**
 * Whether every array whose entries {@link parseConfigText} packed had them taken by its packer
 * (so the composition knows every index store the text lists).
 *
 * @example
 * ```ts
 * const json = parseConfigText(await readFile("composition.json"));
 * const store = shardedStoreFromConfig(json);
 * allPackedTaken(json); // true: each array's packer took what was packed for it
 * ```
 */
export function allPackedTaken(json: unknown): boolean {
  const arrays = (json as { config?: { kwargs?: { array_shards?: Record<string, unknown> } } })?.config
    ?.kwargs?.array_shards;
  for (const entries of Object.values(arrays ?? {})) {
    const pre = typeof entries === "object" && entries !== null ? prePacked.get(entries) : undefined;
    if (pre !== undefined && !pre.taken) return false;
  }
  return true;
}
