import { defaultShardShape } from "../pack/shard-shape.js";
import type { ArrayStats, HierarchyStats } from "./inspect.js";

/**
 * Limits and target of a layout plan.
 *
 * @example
 * ```ts
 * const limits: PlanLimits = { maxObjects: 10_000, maxObjectBytes: 256 << 20, target: "s3" };
 * ```
 */
export interface PlanLimits {
  maxObjects: number;
  maxObjectBytes: number;
  /** `dir` and `s3` count every key as an object; `zip` counts every store (one zip file each). */
  target: "dir" | "zip" | "s3";
}

/**
 * One decision of a plan, with the line that explains it.
 *
 * @example
 * ```ts
 * const c: PlanChoice = { what: "pack", path: "raw", shard: [16, 512, 512], why: "256 chunks → 16 shards of ≤ 16 MiB" };
 * ```
 */
export interface PlanChoice {
  what: "keep" | "pack" | "merge" | "group-shard" | "array-shard";
  path: string;
  shard?: number[];
  dims?: number;
  why: string;
}

/**
 * A layout that meets (or says it cannot meet) the limits, and the commands that produce it.
 *
 * @example
 * ```ts
 * const { commands, after, meets } = planLayout(stats, limits, "in.zarr", "out");
 * ```
 */
export interface Plan {
  limits: PlanLimits;
  before: { objects: number; largest: number; stores: number };
  after: { objects: number; largest: number; stores: number };
  meets: boolean;
  choices: PlanChoice[];
  /** Each command as its arguments after `shardedstore`. */
  commands: string[][];
}

const MiB = 1 << 20;
const fmt = (n: number) =>
  n >= MiB
    ? `${(n / MiB).toFixed(1)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${Math.round(n)} B`;
const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Packs the arrays whose chunks are many: shards as large as the byte limit allows. */
function packPlan(h: HierarchyStats, limits: PlanLimits, source: string, out: string): Plan {
  const choices: PlanChoice[] = [];
  const physical = h.composition?.keys ?? h.keys;
  const stores = h.composition?.stores ?? 1;
  let objects = physical;
  let largest = 0;
  let otherLargest = h.largest;
  for (const a of h.arrays) if (a.largest === h.largest) otherLargest = 0;
  const shards: string[] = [];
  for (const a of [...h.arrays].sort((x, y) => y.chunkKeys - x.chunkKeys)) {
    if (a.packed || a.chunkKeys <= 1) {
      largest = Math.max(largest, a.largest);
      continue;
    }
    if (!/^(bool|u?int\d+|float\d+|complex\d+|[<>|]?[biuf]\d+)$/.test(a.dataType)) {
      largest = Math.max(largest, a.largest);
      choices.push({
        what: "keep",
        path: a.path,
        why: `data type ${a.dataType} is left as it is (not packed)`,
      });
      continue;
    }
    // Sized by the largest stored chunk plus its 16-byte index entry, so no shard passes the limit.
    const perChunk = a.bytes / a.chunkKeys;
    const cost = a.largest + 16;
    // A composition's split dimensions stay one chunk per shard (shards never span index stores).
    const dims = h.composition?.split[a.path] ?? 0;
    const shard = [
      ...a.chunks.slice(0, dims),
      ...defaultShardShape(
        a.shape.slice(dims),
        a.chunks.slice(dims),
        cost / Math.max(1, prod(a.chunks)),
        limits.maxObjectBytes - 4,
      ),
    ];
    const per = prod(shard.map((s, d) => s / a.chunks[d]!));
    if (per <= 1) {
      largest = Math.max(largest, a.largest);
      choices.push({
        what: "keep",
        path: a.path,
        why: `one chunk (${fmt(a.largest)}) already fills the ${fmt(limits.maxObjectBytes)} limit`,
      });
      continue;
    }
    const grid = a.shape.map((s, d) => Math.ceil(s / shard[d]!));
    const shardCount = Math.min(prod(grid), a.chunkKeys);
    objects += shardCount - a.chunkKeys;
    const est = Math.min(a.bytes + 16 * per, per * cost) + 4;
    largest = Math.max(largest, est);
    shards.push(`${a.path}:${shard.join(",")}`);
    choices.push({
      what: "pack",
      path: a.path,
      shard,
      why: `${a.chunkKeys} chunks of ~${fmt(perChunk)} → ${shardCount} shard${shardCount > 1 ? "s" : ""} of ${per} chunks (≤ ${fmt(est)} each)`,
    });
  }
  largest = Math.max(largest, otherLargest);
  // A packed array's zarr.json gains the sharding codec's description (about 600 bytes).
  if (shards.length > 0) largest = Math.max(largest, h.largestMetadata + 700);
  const commands =
    shards.length > 0 ? [["pack", source, "--out", out, ...shards.flatMap((s) => ["--shard", s])]] : [];
  return {
    limits,
    before: { objects: physical, largest: h.largest, stores },
    after: { objects, largest, stores },
    meets: objects <= limits.maxObjects && largest <= limits.maxObjectBytes,
    choices,
    commands,
  };
}

/** Zip stores: one zip when everything fits, else group shards and array shards of at most the limit. */
/**
 * `out` with `suffix` on its name: before an `s3://…?endpoint=…` URL's query, which is no part of
 * the object's name.
 */
function withSuffix(out: string, suffix: string): string {
  const q = /^s3:\/\//i.test(out) ? out.indexOf("?") : -1;
  return q === -1 ? `${out}${suffix}` : `${out.slice(0, q)}${suffix}${out.slice(q)}`;
}

function zipPlan(h: HierarchyStats, limits: PlanLimits, source: string, out: string): Plan {
  const B = limits.maxObjectBytes;
  const metaUnder = (p: string) =>
    h.metadata
      .filter((m) => p === "" || m.path === p || m.path.startsWith(`${p}/`))
      .reduce((s, m) => s + m.zipBytes, 0);
  const total = metaUnder("") + h.arrays.reduce((s, a) => s + a.zipBytes, 0) + 22;
  const stores0 = h.composition?.stores ?? 1;
  const before =
    limits.target === "zip"
      ? { objects: stores0, largest: h.bytes, stores: stores0 }
      : { objects: h.composition?.keys ?? h.keys, largest: h.largest, stores: stores0 };
  if (total <= B) {
    return {
      limits,
      before,
      after: { objects: 1, largest: h.bytes, stores: 1 },
      meets: 1 <= limits.maxObjects,
      choices: [
        { what: "merge", path: "", why: `everything (${fmt(h.bytes)}) fits in one zip of ≤ ${fmt(B)}` },
      ],
      commands: [["merge", source, "--out", withSuffix(out, ".zarr.zip")]],
    };
  }
  const choices: PlanChoice[] = [];
  const sharded = new Set<string>();
  let stores = 1;
  let largest = 0;
  let meets = true;
  for (const a of h.arrays) {
    // Arrays that would take more than half a zip get zips of their own, when they can be split.
    if (a.zipBytes <= B / 2) continue;
    let dims = 0;
    let pieces = 1;
    // An index store also holds its own metadata document (~1 KiB) and the end records.
    while (dims < a.chunks.length && a.chunks[dims] === 1 && a.zipBytes / pieces + 1200 > B / 2) {
      pieces *= Math.max(1, a.shape[dims]!);
      dims++;
    }
    if (dims === 0 || a.zipBytes / pieces + 1200 > B) {
      if (a.zipBytes + 1200 <= B) continue; // it cannot be split, but fits in the base or a group's zip
      meets = false;
      choices.push({
        what: "keep",
        path: a.path,
        why: `≈ ${fmt(a.zipBytes)} exceeds the limit but its leading chunk sizes are not 1 (chunks ${a.chunks.join("×")}): pack it or rechunk`,
      });
      continue;
    }
    sharded.add(a.path);
    const count = Math.min(pieces, a.chunkKeys);
    stores += count;
    largest = Math.max(largest, Math.ceil(a.zipBytes / pieces) + 1200);
    choices.push({
      what: "array-shard",
      path: a.path,
      dims,
      why: `≈ ${fmt(a.zipBytes)} as a zip, split over its first ${dims} dimension${dims > 1 ? "s" : ""} into ${count} zips of ≈ ${fmt(a.zipBytes / pieces + 1200)}`,
    });
  }
  // The rest stays in the base unless it is too big: then the largest top-level groups get their own zip.
  const rest = (p: string) =>
    metaUnder(p) +
    22 +
    h.arrays
      .filter((a) => !sharded.has(a.path) && (p === "" || a.path.startsWith(`${p}/`)))
      .reduce((s, a) => s + a.zipBytes, 0);
  let base = rest("");
  const top = h.groups.filter((g) => g !== "" && !g.includes("/")).sort((x, y) => rest(y) - rest(x));
  const groupShards: string[] = [];
  for (const g of top) {
    if (base <= B) break;
    if ([...sharded].some((p) => p.startsWith(`${g}/`))) continue;
    const size = rest(g);
    if (size === 0) continue;
    groupShards.push(g);
    base -= size;
    stores++;
    largest = Math.max(largest, size);
    if (size > B) meets = false;
    choices.push({
      what: "group-shard",
      path: g,
      why: `group ${g} (${fmt(size)}) gets its own zip so the base stays under ${fmt(B)}`,
    });
  }
  largest = Math.max(largest, base);
  if (base > B) meets = false;
  return {
    limits,
    before,
    after: { objects: stores, largest, stores },
    meets: meets && stores <= limits.maxObjects,
    choices,
    commands: [
      [
        "reshard",
        source,
        "--out",
        out,
        "--shard-type",
        "zip",
        ...groupShards.flatMap((g) => ["--group", g]),
        ...[...sharded]
          .map((p) => `${p}:${choices.find((c) => c.path === p)!.dims}`)
          .flatMap((s) => ["--array", s]),
      ],
    ],
  };
}

/**
 * Chooses a layout for the hierarchy described by `h` under `limits`: nothing when it already fits;
 * for directory and S3 targets (every key an object) the sharding codec (`pack`) with shards as
 * large as the byte limit allows, or zips when the hierarchy cannot be packed; for zip targets one
 * zip when everything fits, else group and array shards. Each choice carries one line saying why.
 *
 * @example
 * ```ts
 * const plan = planLayout(stats, { maxObjects: 1000, maxObjectBytes: 64 << 20, target: "dir" }, "in.zarr", "out");
 * ```
 */
export function planLayout(h: HierarchyStats, limits: PlanLimits, source: string, out: string): Plan {
  const perKey = limits.target !== "zip";
  const physical = h.composition?.keys ?? h.keys;
  const stores = h.composition?.stores ?? 1;
  if (perKey && physical <= limits.maxObjects && h.largest <= limits.maxObjectBytes) {
    return {
      limits,
      before: { objects: physical, largest: h.largest, stores },
      after: { objects: physical, largest: h.largest, stores },
      meets: true,
      choices: [
        {
          what: "keep",
          path: "",
          why: `${h.keys} objects, the largest ${fmt(h.largest)}: already within the limits`,
        },
      ],
      commands: [],
    };
  }
  const packed = perKey && h.unpackable.length === 0 ? packPlan(h, limits, source, out) : undefined;
  if (packed?.meets) return packed;
  const z = zipPlan(h, limits, source, out);
  if (packed !== undefined && !z.meets && packed.after.objects <= z.after.objects) return packed;
  if (perKey && h.unpackable.length > 0) {
    z.choices.unshift({
      what: "keep",
      path: h.unpackable.join(", "),
      why: "cannot be packed (no Zarr v3 data type for it here), so the plan uses zip files, one object each",
    });
  }
  return z;
}

export type { ArrayStats, HierarchyStats };
