// Reading a big expanded config (Node) without building its whole tree or holding its whole text.
// The file is read through a window (WINDOW bytes, grown only for a member longer than half of it)
// and its text is split at the members of `config.kwargs.array_shards`, in two passes: the first
// finds where `array_shards` starts and ends (looking through it only for its end); the rest of the
// text, with `array_shards` as `{}`, is then read again (a few hundred bytes in our configs) and
// parsed whole; the second pass reads `array_shards` again and parses each index store's entry on
// its own, keeping those that are exactly their array's declared factory's index stores (as
// pack-entries.ts packs them) as index tuples only. JSON.parse still parses every byte; this only
// splits the text. Text the splitter does not read plainly is read again whole and parsed by
// JSON.parse, so its errors are JSON.parse's.
//
// The scans work on the window's bytes and throw SHORT when they reach its end before the text's.
// The walk's state changes only at member boundaries (a member is its key, its value and the comma
// and whitespace before it; a skimmed value's boundaries are its strings' starts), so on SHORT the
// window slides to the start of the member being read (the bytes before it dropped), reads on, and
// that member is read again. Reading is a generator yielding each read it needs, run over a file
// handle (asynchronously) or over bytes in memory (synchronously: `parseConfigText`, which tests
// run through windows of a few bytes).
import { Buffer } from "node:buffer";
import { type FileHandle, open } from "node:fs/promises";
import { ConfigError } from "../errors.js";
import type { FactorySpec } from "./factories.js";
import { INDEX_SUFFIX, inferFactory, isUrlLike } from "./factories.js";
import { isFactoryEntry, type PrePacked, prePacked, sameButPath } from "./pack-entries.js";
import type { StoreConfig } from "./registry.js";

/**
 * Below this many bytes a config is read and parsed whole (its tree is small).
 *
 * @example
 * ```ts
 * console.log(SPLIT_THRESHOLD); // 1048576
 * ```
 */
export const SPLIT_THRESHOLD = 1 << 20;

/**
 * Bytes of a big config read at a time: the window the splitter reads through (doubled while the
 * member being read fills more than half of it). 4 MiB: a config of 10^4 index stores (~2.2 MB) is
 * read in one window, which opened it as fast as reading its bytes whole did (a 1 MiB window cost
 * ~15–25 % more time there; measured in fresh processes, medians of 9–11 runs).
 *
 * @example
 * ```ts
 * console.log(WINDOW); // 4194304
 * ```
 */
export const WINDOW = 1 << 22;

/**
 * What reading configs held and read, since the process started or these were last set to 0 (for
 * tests and benchmarks): the largest buffer of a config's bytes held at once (a window, a part of
 * the text outside `array_shards`, or a whole text), the bytes the splitter read (a file is read
 * about twice), and how many texts were parsed whole.
 *
 * @example
 * ```ts
 * console.log(readStats.largest, readStats.bytesRead, readStats.whole);
 * ```
 */
export const readStats = { largest: 0, bytesRead: 0, whole: 0 };

/** The text does not have the shape the splitter reads: parse it whole (JSON.parse says why). */
class Unsplittable extends Error {}

/** A scan reached the window's end before the text's (one object, thrown often: no stack taken). */
const SHORT = new Error("short");

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

/**
 * Past the closing quote of the string whose opening quote is at `b[i]` (the quote found natively;
 * one closes after an even run of backslashes), or -1 when `b` ends first.
 */
function closedAt(b: Uint8Array, i: number): number {
  for (let j = i + 1; ; ) {
    const q = b.indexOf(0x22, j);
    if (q === -1) return -1;
    let k = q - 1;
    while (b[k] === 0x5c) k--; // stops at the opening quote at the latest
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/**
 * Some of a config's bytes: `b[0]` is the byte at `base`; `eof` when `b` runs to the text's end. Its
 * scans take and give indices into `b`; reaching `b`'s end they throw SHORT (Unsplittable at `eof`).
 */
class Window {
  buf: Buffer;
  b: Buffer;
  base = 0;
  eof = false;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(1, Math.floor(size)));
    this.b = this.buf.subarray(0, 0);
  }

  /** What a scan throws at the window's end. */
  miss(): Error {
    return this.eof ? new Unsplittable() : SHORT;
  }

  text(s: number, e: number): string {
    return this.b.toString("utf8", s, e);
  }

  ws(i: number): number {
    const b = this.b;
    while (i < b.length && WS[b[i]!] === 1) i++;
    if (i === b.length && !this.eof) throw SHORT;
    return i;
  }

  expect(i: number, c: number): number {
    if (this.b[i] !== c) throw i >= this.b.length ? this.miss() : new Unsplittable();
    return i + 1;
  }

  /** End of the string starting at `i` (a `"`): past its closing quote (see {@link closedAt}). */
  stringEnd(i: number): number {
    const end = closedAt(this.b, i);
    if (end === -1) throw this.miss();
    return end;
  }

  /** End of the JSON value starting at `i` (not checked: the caller parses it). */
  valueEnd(i: number): number {
    const b = this.b;
    const c = b[i];
    if (c === 0x22) return this.stringEnd(i);
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      for (let j = i; j < b.length; j++) {
        const d = b[j]!;
        if (d === 0x22) j = this.stringEnd(j) - 1;
        else if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) {
          depth--;
          if (depth === 0) return j + 1;
        }
      }
      throw this.miss();
    }
    let j = i;
    while (j < b.length && b[j] !== 0x2c && b[j] !== 0x7d && b[j] !== 0x5d && WS[b[j]!] !== 1) j++;
    if (j === b.length && !this.eof) throw SHORT; // a number may go on in the next bytes
    if (j === i) throw new Unsplittable();
    return j;
  }

  /** A member's key (`i` at its opening quote), decoded as JSON.parse would, and where it ends. */
  keyAt(i: number): { key: string; end: number } {
    const b = this.b;
    if (b[i] !== 0x22) throw i >= b.length ? this.miss() : new Unsplittable();
    const end = this.stringEnd(i);
    for (let j = i + 1; j < end - 1; j++) {
      const c = b[j]!;
      if (c < 0x20) throw new Unsplittable(); // JSON.parse refuses it: let it say so
      if (c === 0x5c) return { key: JSON.parse(this.text(i, end)) as string, end };
    }
    return { key: this.text(i + 1, end - 1), end };
  }
}

/** A read the splitter needs: `length` bytes at `position` into `into[offset…]` (fewer only at the end). */
interface Read {
  into: Buffer;
  offset: number;
  length: number;
  position: number;
}

/** Reading yields each read it needs and is resumed with how many bytes it got. */
type Reading<T> = Generator<Read, T, number>;

/**
 * Moves the window to start at `keep` (its bytes from there on kept) and fills it, growing it when
 * what is kept fills more than half of it (so each move reads at least half a window).
 */
function* slide(w: Window, keep: number): Reading<void> {
  const from = keep - w.base;
  const kept = w.b.length - from;
  let buf = w.buf;
  if (kept * 2 > buf.length) {
    buf = Buffer.allocUnsafeSlow(buf.length * 2);
    w.b.copy(buf, 0, from);
  } else buf.copyWithin(0, from, w.b.length);
  let len = kept;
  let eof = false;
  while (len < buf.length) {
    const n = yield { into: buf, offset: len, length: buf.length - len, position: keep + len };
    if (n === 0) {
      eof = true;
      break;
    }
    len += n;
  }
  w.buf = buf;
  w.b = buf.subarray(0, len);
  w.base = keep;
  w.eof = eof;
  readStats.largest = Math.max(readStats.largest, buf.length);
}

/** The `length` bytes at `position`. */
function* readPart(position: number, length: number): Reading<Buffer> {
  const buf = Buffer.allocUnsafeSlow(length);
  for (let len = 0; len < length; ) {
    const n = yield { into: buf, offset: len, length: length - len, position: position + len };
    if (n === 0) throw new Unsplittable(); // the file got shorter
    len += n;
  }
  readStats.largest = Math.max(readStats.largest, length);
  return buf;
}

/** Skips whitespace from `at` (across windows); returns where it ends. */
function* skipWs(w: Window, at: number): Reading<number> {
  for (;;) {
    const b = w.b;
    let i = at - w.base;
    while (i < b.length && WS[b[i]!] === 1) i++;
    at = w.base + i;
    if (i < b.length || w.eof) return at;
    yield* slide(w, at);
  }
}

const OPEN = 0; // `at` is where the object's `{` should be
const FIRST = 1; // after `{`: whitespace, then `}` or a member
const NEXT = 2; // after a member: whitespace, then `}` or `,`
const MEMBER = 3; // after `,`: whitespace, then a member
const SKIM = 4; // in a value only looked through for its end, `depth` brackets deep at `at`

/**
 * An object being walked member by member. `at` (a position in the text) and `phase` say where its
 * walk resumes; `member(key, start)` gets each key and where its value starts (an index into the
 * window's bytes) and returns where the value ends, or a frame to walk it (an object) member by
 * member. `member` may throw SHORT but must change nothing before it knows where the value ends.
 * With `keys`, a repeated key is not split (JSON.parse keeps the last value where the first stood).
 * A frame made by {@link skim} has no members: its value is only looked through for its end.
 */
interface Frame {
  at: number;
  phase: number;
  depth: number;
  keys: Set<string> | null;
  member: (key: string, start: number) => number | Frame;
  /** Called with where the object ends (a position in the text). */
  close: (end: number) => void;
}

const frame = (unique: boolean, member: Frame["member"], close: Frame["close"] = () => {}): Frame => ({
  at: 0,
  phase: OPEN,
  depth: 0,
  keys: unique ? new Set() : null,
  member,
  close,
});

/**
 * A frame that only finds where its value (an object or array) ends, as `valueEnd` does but across
 * windows: not checked (what is skimmed is read again, and checked, or parsed).
 */
const skim = (close: Frame["close"]): Frame => ({
  at: 0,
  phase: SKIM,
  depth: 0,
  keys: null,
  member: () => -1,
  close,
});

/**
 * Where a skimmed value ends, or -1 at the window's end: its frame then keeps where it got to and
 * how deep (the start of a string not closed yet, or the window's end).
 */
function skimEnd(w: Window, f: Frame): number {
  const b = w.b;
  const n = b.length;
  let depth = f.depth;
  for (let i = f.at - w.base; i < n; i++) {
    const d = b[i]!;
    if (d === 0x22) {
      const end = closedAt(b, i);
      if (end === -1) {
        f.at = w.base + i;
        f.depth = depth;
        return -1;
      }
      i = end - 1;
    } else if (d === 0x7b || d === 0x5b) depth++;
    else if ((d === 0x7d || d === 0x5d) && --depth === 0) return w.base + i + 1;
  }
  f.at = w.base + n;
  f.depth = depth;
  return -1;
}

/**
 * Walks the frames on `stack` (the innermost last) until the first one's object ends; returns where
 * it ends. Throws SHORT with every frame at a member boundary: the walk resumes from the innermost
 * frame's `at` once the window holds more.
 */
function walkFrames(w: Window, stack: Frame[]): number {
  for (;;) {
    const f = stack[stack.length - 1]!;
    const b = w.b;
    let i = f.at - w.base;
    let end = -1;
    if (f.phase === OPEN) {
      f.at = w.base + w.expect(i, 0x7b);
      f.phase = FIRST;
      continue;
    }
    if (f.phase === SKIM) {
      // Thrown here, not in skimEnd's loop: a throw there made V8 drop its optimized code per window.
      end = skimEnd(w, f);
      if (end === -1) throw w.miss();
    } else {
      while (i < b.length && WS[b[i]!] === 1) i++;
      if (i === b.length && !w.eof) {
        f.at = w.base + i; // whitespace read is not read again
        throw SHORT;
      }
      if (b[i] === 0x7d && f.phase !== MEMBER) end = w.base + i + 1;
    }
    if (end !== -1) {
      stack.pop();
      f.close(end);
      const up = stack[stack.length - 1];
      if (up === undefined) return end;
      up.at = end;
      up.phase = NEXT;
      continue;
    }
    if (f.phase === NEXT) {
      f.at = w.base + w.expect(i, 0x2c);
      f.phase = MEMBER;
      continue;
    }
    const k = w.keyAt(i);
    if (f.keys?.has(k.key)) throw new Unsplittable();
    const start = w.ws(w.expect(w.ws(k.end), 0x3a));
    const value = f.member(k.key, start);
    // The member is read (or its object entered): from here on it is not read again.
    f.keys?.add(k.key);
    f.phase = NEXT;
    if (typeof value === "number") f.at = w.base + value;
    else {
      value.at = w.base + start;
      stack.push(value);
    }
  }
}

/** {@link walkFrames}, the window moved on (and grown if need be) whenever it reaches its end. */
function* walk(w: Window, root: Frame): Reading<number> {
  const stack = [root];
  for (;;) {
    try {
      return walkFrames(w, stack);
    } catch (e) {
      if (e !== SHORT) throw e;
    }
    yield* slide(w, stack[stack.length - 1]!.at);
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

/** Runs a reading over bytes in memory. */
function readBytes<T>(reading: Reading<T>, bytes: Uint8Array): T {
  for (let r = reading.next(); ; ) {
    if (r.done) return r.value;
    const { into, offset, length, position } = r.value;
    const n = Math.max(0, Math.min(length, bytes.length - position));
    into.set(bytes.subarray(position, position + n), offset);
    readStats.bytesRead += n;
    r = reading.next(n);
  }
}

/** A read of the file failed (not the text's fault: reported, not parsed whole). */
class ReadFailed {
  constructor(readonly error: unknown) {}
}

/** Runs a reading over a file. */
async function readFileHandle<T>(reading: Reading<T>, fh: FileHandle): Promise<T> {
  for (let r = reading.next(); ; ) {
    if (r.done) return r.value;
    const { into, offset, length, position } = r.value;
    let n: number;
    try {
      n = (await fh.read(into, offset, length, position)).bytesRead;
    } catch (e) {
      throw new ReadFailed(e);
    }
    readStats.bytesRead += n;
    r = reading.next(n);
  }
}

/** A text's value as JSON.parse gives it (decoded as readFile(…, "utf8") does: a byte-order mark is kept). */
function parseWhole(bytes: Uint8Array): unknown {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  readStats.whole++;
  readStats.largest = Math.max(readStats.largest, b.length);
  return JSON.parse(b.toString("utf8", 0, b.length));
}

/**
 * Parses a config's text, splitting a big one (see the file comment) and reading it through a
 * window of `window` bytes: the same value as `JSON.parse(text)` except that the entries of
 * packable index stores are left out of `array_shards` and recorded in {@link prePacked} under
 * their array's entries object, for the array's packer to take. Any text it does not read as
 * plainly as that (a repeated key, a nested composition's arrays, an index it would have to judge)
 * is parsed whole, so errors are JSON.parse's and the config codec's, as before.
 *
 * @example
 * ```ts
 * shardedStoreFromConfig(parseConfigText(await readFile("composition.json")));
 * ```
 */
export function parseConfigText(buf: Uint8Array, threshold = SPLIT_THRESHOLD, window = WINDOW): unknown {
  if (buf.length >= threshold) {
    try {
      return readBytes(split(window), buf);
    } catch {
      // Unsplittable, or a part JSON.parse refuses, or a value of a shape the codec will name:
      // the whole text is parsed, and its errors are the ones reported.
    }
  }
  return parseWhole(buf);
}

/**
 * Reads and parses a config file as {@link parseConfigText} parses its text, never holding a big
 * one (of `threshold` bytes or more, a regular file) whole: it is read through a window of `window`
 * bytes, twice (the text outside `array_shards` first, then its entries). A text the splitter does
 * not read plainly is read again whole and parsed by JSON.parse. Errors are `ConfigError`s: `(file)`
 * for a file that cannot be read, `(root)` for text that is not JSON (JSON.parse's message).
 *
 * @example
 * ```ts
 * shardedStoreFromConfig(await readConfigFile("data/composition.json"), { baseDir: "data" });
 * ```
 */
export async function readConfigFile(
  file: string,
  { threshold = SPLIT_THRESHOLD, window = WINDOW }: { threshold?: number; window?: number } = {},
): Promise<unknown> {
  const cannotRead = (e: unknown) =>
    new ConfigError("(file)", `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  let bytes: Buffer;
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (e) {
    throw cannotRead(e);
  }
  try {
    let big: boolean;
    try {
      const stat = await fh.stat();
      big = stat.isFile() && stat.size >= threshold;
    } catch (e) {
      throw cannotRead(e);
    }
    if (big) {
      try {
        return await readFileHandle(split(window), fh);
      } catch (e) {
        if (e instanceof ReadFailed) throw cannotRead(e.error);
        // Not split (see parseConfigText): read whole below, for JSON.parse to say what is wrong.
      }
    }
    try {
      bytes = await fh.readFile(); // positioned reads above left the file's position at its start
    } catch (e) {
      throw cannotRead(e);
    }
  } finally {
    await fh.close();
  }
  try {
    return parseWhole(bytes);
  } catch (e) {
    throw new ConfigError("(root)", `${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** The split itself (throws when the text is not split; the caller then parses it whole). */
function* split(window: number): Reading<unknown> {
  const w = new Window(window);
  // Pass 1: where config.kwargs.array_shards starts and ends (other values skipped; it is skimmed,
  // so the window need hold no more than a string of it).
  let shards = -1;
  let shardsEnd = -1;
  const into =
    (want: string, then: (start: number) => Frame) =>
    (key: string, start: number): number | Frame =>
      key === want ? then(start) : w.valueEnd(start);
  const root = frame(
    true,
    into("config", () =>
      frame(
        true,
        into("kwargs", () =>
          frame(
            true,
            into("array_shards", (start) => {
              if (w.b[start] !== 0x7b) throw new Unsplittable();
              shards = w.base + start;
              return skim((end) => {
                shardsEnd = end;
              });
            }),
          ),
        ),
      ),
    ),
  );
  yield* slide(w, 0);
  root.at = yield* skipWs(w, 0);
  const end = yield* skipWs(w, yield* walk(w, root));
  if (end !== w.base + w.b.length || shards === -1) throw new Unsplittable();

  // The rest, parsed as it is with array_shards as {} (read again: the page cache has it).
  const json = JSON.parse(
    `${(yield* readPart(0, shards)).toString("utf8")}{}${(yield* readPart(shardsEnd, end - shardsEnd)).toString("utf8")}`,
  ) as StoreConfig;
  if (json.name !== "ShardedStore") throw new Unsplittable();
  const kw = json.config.kwargs as {
    array_shards: Record<string, unknown>;
    array_shard_dims?: Record<string, unknown>;
    array_shard_factories?: Record<string, Partial<FactorySpec>>;
    array_shard_indices?: Record<string, unknown>;
  };

  // Pass 2: array_shards read again, each entry parsed on its own.
  const rebuilt: Record<string, unknown> = {};
  const shardsFrame = frame(true, (path, start) => {
    // A plain object's "__proto__" member would set its prototype: left to JSON.parse.
    if (path === "__proto__") throw new Unsplittable();
    if (w.b[start] !== 0x7b) {
      const end = w.valueEnd(start);
      rebuilt[path] = JSON.parse(w.text(start, end));
      return end;
    }
    return entriesFrame(kw, path, w, (kept, pre) => {
      rebuilt[path] = kept;
      if (pre !== undefined && pre.tuples.length > 0) prePacked.set(kept, pre);
    });
  });
  w.base = shards;
  w.b = w.buf.subarray(0, 0);
  w.eof = false;
  yield* slide(w, shards);
  shardsFrame.at = shards;
  if ((yield* walk(w, shardsFrame)) !== shardsEnd) throw new Unsplittable(); // the file changed
  kw.array_shards = rebuilt;
  return json;
}

/**
 * The frame reading one array's entries: each parsed on its own, those its factory would make
 * (path aside, the same config as the first one) kept as index tuples only. `done` gets the entries
 * kept and what was packed.
 */
function entriesFrame(
  kw: {
    array_shard_dims?: Record<string, unknown>;
    array_shard_factories?: Record<string, Partial<FactorySpec>>;
    array_shard_indices?: Record<string, unknown>;
  },
  path: string,
  w: Window,
  done: (kept: Record<string, unknown>, pre: PrePacked | undefined) => void,
): Frame {
  const declared = kw.array_shard_dims?.[path];
  let dims = typeof declared === "number" ? declared : undefined;
  const kept: Record<string, unknown> = {};
  const seen = new Set<string>();
  let pre: PrePacked | undefined;
  let pk: FactorySpec | undefined;
  let first = true;
  // Ids repeated are caught by `seen` (an index) or, like JSON.parse, keep the last value. Nothing
  // changes before the entry's end is known (a SHORT reads it again).
  return frame(
    false,
    (id, at) => {
      const end = w.valueEnd(at);
      if (id === "__proto__") throw new Unsplittable();
      const value = JSON.parse(w.text(at, end)) as StoreConfig;
      const parsed = indexOf(id);
      const key = parsed?.index.join(",");
      // Index tuples the codec would refuse (another length, the same index twice) are its to name.
      if (parsed !== null && (parsed.index.length !== (dims ?? parsed.index.length) || seen.has(key!)))
        throw new Unsplittable();
      if (first) {
        first = false;
        pk = packingSpec(kw, path, value, id);
      }
      if (parsed !== null) {
        dims ??= parsed.index.length;
        seen.add(key!);
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
    },
    () => done(kept, pre),
  );
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
 * console.log(allPackedTaken(json)); // true when each array's packer took what was packed for it
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
