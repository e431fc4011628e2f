// Compact sets of index tuples: boxes of per-dimension ranges, for configs of millions of index stores.

/**
 * One dimension of an {@link IndexBox}: a single index, or the half-open range `[start, stop)`.
 *
 * @example
 * ```ts
 * const one: IndexRange = 7;
 * const many: IndexRange = [0, 1000]; // 0 … 999
 * ```
 */
export type IndexRange = number | readonly [start: number, stop: number];

/**
 * A box of index tuples: the cartesian product of one {@link IndexRange} per sharded dimension.
 *
 * @example
 * ```ts
 * const box: IndexBox = [[0, 1000], 3]; // [0, 3], [1, 3], … [999, 3]
 * ```
 */
export type IndexBox = readonly IndexRange[];

const lo = (r: IndexRange) => (typeof r === "number" ? r : r[0]);
const hi = (r: IndexRange) => (typeof r === "number" ? r + 1 : r[1]);

/**
 * Whether `box` has `dims` entries, each a safe non-negative index or a non-empty `[start, stop)`.
 *
 * @example
 * ```ts
 * isValidBox([[0, 10], 3], 2); // true
 * isValidBox([[4, 4]], 1); // false: empty
 * ```
 */
export function isValidBox(box: unknown, dims: number): box is IndexBox {
  const index = (i: unknown) => Number.isSafeInteger(i) && (i as number) >= 0;
  return (
    Array.isArray(box) &&
    box.length === dims &&
    box.every((r) =>
      Array.isArray(r) ? r.length === 2 && index(r[0]) && index(r[1]) && r[0] < r[1] : index(r),
    )
  );
}

/** Number of tuples in a box (may exceed 2^53 for huge boxes: a float then). */
export function boxSize(box: IndexBox): number {
  let n = 1;
  for (const r of box) n *= Math.max(0, hi(r) - lo(r));
  return n;
}

/** Whether `index` lies in `box`. */
export function boxHas(box: IndexBox, index: readonly number[]): boolean {
  if (box.length !== index.length) return false;
  for (let d = 0; d < box.length; d++) {
    const r = box[d]!;
    const i = index[d]!;
    if (typeof r === "number" ? i !== r : i < r[0] || i >= r[1]) return false;
  }
  return true;
}

/** Every tuple of a box, in C order. */
export function* boxTuples(box: IndexBox): Generator<number[]> {
  if (box.length === 0 || boxSize(box) === 0) return;
  const idx = box.map(lo);
  for (;;) {
    yield idx.slice();
    let d = box.length - 1;
    while (d >= 0) {
      idx[d]!++;
      if (idx[d]! < hi(box[d]!)) break;
      idx[d] = lo(box[d]!);
      d--;
    }
    if (d < 0) return;
  }
}

/**
 * A set of index tuples given as boxes. Built in O(boxes) — never O(tuples) — so a config naming a
 * million index stores in one box opens at once; single-index boxes are looked up in a hash map.
 *
 * @example
 * ```ts
 * const set = new IndexSet([[[0, 1000], [0, 1000]]]);
 * set.has([10, 999]); // true
 * set.size; // 1000000
 * ```
 */
export class IndexSet {
  readonly boxes: readonly IndexBox[];
  readonly #points = new Set<string>();
  readonly #ranges: IndexBox[] = [];
  /** Number of tuples (boxes may overlap only when given so by hand; then an upper bound). */
  readonly size: number;

  constructor(boxes: readonly IndexBox[]) {
    this.boxes = boxes;
    let size = 0;
    for (const b of boxes) {
      size += boxSize(b);
      if (b.every((r) => typeof r === "number")) this.#points.add(b.join(","));
      else this.#ranges.push(b);
    }
    this.size = size;
  }

  /** Whether the set holds `index`; `id` is its `join(",")` when the caller has it. */
  has(index: readonly number[], id = index.join(",")): boolean {
    if (this.#points.has(id)) return true;
    for (const b of this.#ranges) if (boxHas(b, index)) return true;
    return false;
  }

  /** Every tuple, box by box. */
  *[Symbol.iterator](): Generator<number[]> {
    for (const b of this.boxes) yield* boxTuples(b);
  }
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return a[d]! - b[d]!;
  return 0;
}

/** Boxes covering exactly `tuples` (sorted, deduplicated, all of one length), from `depth` on. */
function build(tuples: readonly (readonly number[])[], depth: number): IndexRange[][] {
  const dims = tuples[0]!.length;
  const runs: { start: number; stop: number; sub: IndexRange[][]; key: string }[] = [];
  let i = 0;
  while (i < tuples.length) {
    const v = tuples[i]![depth]!;
    let j = i;
    while (j < tuples.length && tuples[j]![depth] === v) j++;
    const sub = depth === dims - 1 ? [] : build(tuples.slice(i, j), depth + 1);
    const key = JSON.stringify(sub);
    const last = runs[runs.length - 1];
    if (last !== undefined && last.stop === v && last.key === key) last.stop = v + 1;
    else runs.push({ start: v, stop: v + 1, sub, key });
    i = j;
  }
  const out: IndexRange[][] = [];
  for (const r of runs) {
    const range: IndexRange = r.stop - r.start === 1 ? r.start : [r.start, r.stop];
    if (depth === dims - 1) out.push([range]);
    else for (const s of r.sub) out.push([range, ...s]);
  }
  return out;
}

/**
 * The fewest-boxes-we-find cover of a set of index tuples: consecutive indices with identical
 * remainders merge into ranges, dimension by dimension. A dense grid becomes one box; a sparse set
 * stays one single-index box per tuple. O(n log n · dims).
 *
 * @example
 * ```ts
 * compactIndices([[0, 0], [0, 1], [1, 0], [1, 1], [5, 2]]); // [[[0, 2], [0, 2]], [5, 2]]
 * ```
 */
export function compactIndices(tuples: Iterable<readonly number[]>): IndexBox[] {
  const sorted = [...tuples].sort(compare);
  const unique = sorted.filter((t, i) => i === 0 || compare(t, sorted[i - 1]!) !== 0);
  if (unique.length === 0) return [];
  if (unique[0]!.length === 0) return [[]];
  return build(unique, 0);
}
