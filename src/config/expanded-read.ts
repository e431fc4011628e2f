// Reading a big expanded config (Node) without building its whole tree: the text is split at the
// members of `config.kwargs.array_shards`, each index store's entry is parsed on its own, and those
// that are exactly their array's declared factory's index stores (as pack-entries.ts packs them)
// are kept as index tuples only. JSON.parse still parses every byte; this only splits the text.
import type { FactorySpec } from "./factories.js";
import { factoryKindOf, INDEX_SUFFIX, inferFactory, isUrlLike } from "./factories.js";
import { type PrePacked, prePacked, sameButPath } from "./pack-entries.js";
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

/** End of the string starting at `i` (a `"`), and whether it holds an escape. */
function stringEnd(b: Uint8Array, i: number): { end: number; escaped: boolean } {
  let escaped = false;
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j]!;
    if (c === 0x22) return { end: j + 1, escaped };
    if (c === 0x5c) {
      escaped = true;
      j++;
    } else if (c < 0x20) throw new Unsplittable();
  }
  throw new Unsplittable();
}

/** End of the JSON value starting at `i` (not checked: the caller parses it). */
function valueEnd(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === 0x22) return stringEnd(b, i).end;
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < b.length; j++) {
      const d = b[j]!;
      if (d === 0x22) j = stringEnd(b, j).end - 1;
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

interface Member {
  key: string;
  start: number;
  end: number;
}

/**
 * The members of the object at `i` one at a time (key, value start and end), in order; `closed.end`
 * is set to the object's end once they are all read. With `unique`, a repeated key is not split
 * (JSON.parse keeps the last value where the first stood).
 */
function* members(
  b: Uint8Array,
  text: (s: number, e: number) => string,
  i: number,
  unique: boolean,
  closed: { end: number } = { end: 0 },
): Generator<Member> {
  const keys = unique ? new Set<string>() : null;
  i = ws(b, expect(b, i, 0x7b));
  if (b[i] === 0x7d) {
    closed.end = i + 1;
    return;
  }
  for (;;) {
    if (b[i] !== 0x22) throw new Unsplittable();
    const s = stringEnd(b, i);
    const key = s.escaped ? (JSON.parse(text(i, s.end)) as string) : text(i + 1, s.end - 1);
    if (keys !== null) {
      if (keys.has(key)) throw new Unsplittable();
      keys.add(key);
    }
    i = ws(b, expect(b, ws(b, s.end), 0x3a));
    const end = valueEnd(b, i);
    yield { key, start: i, end };
    i = ws(b, end);
    if (b[i] === 0x7d) {
      closed.end = i + 1;
      return;
    }
    i = ws(b, expect(b, i, 0x2c));
  }
}

/** The member `key` of the object at `i` (every member is read: a repeated key is not split). */
function member(b: Uint8Array, text: (s: number, e: number) => string, i: number, key: string): Member {
  let found: Member | undefined;
  for (const m of members(b, text, i, true)) if (m.key === key) found = m;
  if (found === undefined) throw new Unsplittable();
  return found;
}

/** `"12"`, `"0.3"`, `"4/0/1"` (no leading zeros, one separator) → the tuple and separator; else null. */
function indexOf(id: string): { index: number[]; sep: string } | null {
  const m = /^(0|[1-9]\d{0,14})(?:([./])(0|[1-9]\d{0,14}))*$/.exec(id);
  if (m === null) return null;
  const sep = m[2] ?? "";
  if (sep !== "" && id.includes(sep === "." ? "/" : ".")) return null;
  return { index: (sep === "" ? [id] : id.split(sep)).map(Number), sep };
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
  // A byte-order mark stays in the text, as readFile(…, "utf8") keeps it (JSON.parse refuses it).
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const text = (s: number, e: number) => decoder.decode(buf.subarray(s, e));
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
  const top = { end: 0 };
  let config: Member | undefined;
  for (const m of members(b, text, ws(b, 0), true, top)) if (m.key === "config") config = m;
  if (config === undefined || ws(b, top.end) !== b.length) throw new Unsplittable();
  const kwargs = member(b, text, config.start, "kwargs");
  const shards = member(b, text, kwargs.start, "array_shards");
  if (b[shards.start] !== 0x7b) throw new Unsplittable();
  const json = JSON.parse(`${text(0, shards.start)}{}${text(shards.end, b.length)}`) as StoreConfig;
  if (json.name !== "ShardedStore") throw new Unsplittable();
  const kw = json.config.kwargs as {
    array_shards: Record<string, unknown>;
    array_shard_dims?: Record<string, unknown>;
    array_shard_factories?: Record<string, Partial<FactorySpec>>;
    array_shard_indices?: Record<string, unknown>;
  };
  const rebuilt: Record<string, unknown> = {};
  for (const array of members(b, text, shards.start, true)) {
    if (b[array.start] !== 0x7b) {
      rebuilt[array.key] = JSON.parse(text(array.start, array.end));
      continue;
    }
    // The declared factory, or (as the codec infers it for the Python original's configs) the one
    // the first entry's path shows; the codec's own inference over the entries kept must agree.
    let spec = Object.hasOwn(kw.array_shard_factories ?? {}, array.key)
      ? kw.array_shard_factories?.[array.key]
      : undefined;
    const inferred = spec === undefined;
    if (inferred) {
      for (const first of members(b, text, array.start, false)) {
        spec = inferFactory({ [first.key]: JSON.parse(text(first.start, first.end)) as StoreConfig });
        break;
      }
    }
    const suffix = typeof spec?.kind === "string" ? INDEX_SUFFIX[spec.kind] : undefined;
    const packs =
      spec !== undefined &&
      suffix !== undefined &&
      typeof spec?.prefix === "string" &&
      !isUrlLike(spec.prefix) &&
      (spec.separator === "/" || spec.separator === ".") &&
      !Object.hasOwn(kw.array_shard_indices ?? {}, array.key);
    const pk = packs ? (spec as FactorySpec) : undefined;
    const declared = kw.array_shard_dims?.[array.key];
    let dims = typeof declared === "number" ? declared : undefined;
    const kept: Record<string, unknown> = {};
    const seen = new Set<string>();
    let pre: PrePacked | undefined;
    // Ids repeated are caught by `seen` (an index) or, like JSON.parse, keep the last value.
    for (const m of members(b, text, array.start, false)) {
      const value = JSON.parse(text(m.start, m.end)) as StoreConfig;
      const parsed = indexOf(m.key);
      if (parsed !== null) {
        // Index tuples the codec would refuse (another length, the same index twice) are its to name.
        dims ??= parsed.index.length;
        const id = parsed.index.join(",");
        if (parsed.index.length !== dims || seen.has(id)) throw new Unsplittable();
        seen.add(id);
      }
      if (pk !== undefined && parsed !== null && pre !== undefined && parsed.sep === pre.sep) {
        const at = `${pk.prefix}/${parsed.index.join(pk.separator)}${suffix}`;
        if (value?.config?.args?.[0] === at && sameButPath(pre.template, value)) {
          pre.tuples.push(parsed.index);
          continue;
        }
      } else if (pk !== undefined && parsed !== null && pre === undefined && isTemplate(value, pk, parsed)) {
        pre = { spec: pk, template: value, sep: parsed.sep, tuples: [], taken: false };
      }
      kept[m.key] = value;
    }
    rebuilt[array.key] = kept;
    if (pre !== undefined && pre.tuples.length > 0) prePacked.set(kept, pre);
  }
  kw.array_shards = rebuilt;
  return json;
}

/** Whether an entry can be the template of its array's packed entries (its factory's store there). */
function isTemplate(value: StoreConfig, spec: FactorySpec, parsed: { index: number[] }): boolean {
  return (
    typeof value?.name === "string" &&
    Array.isArray(value.config?.args) &&
    factoryKindOf(value) === spec.kind &&
    value.config.args[0] === `${spec.prefix}/${parsed.index.join(spec.separator)}${INDEX_SUFFIX[spec.kind]}`
  );
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
