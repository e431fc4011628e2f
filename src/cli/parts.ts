import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { InvalidArgumentError } from "commander";
import type { IndexBox } from "../node.js";

/** The folder in an `--out` folder where each part of a split run leaves its manifest. */
export const PARTS_DIR = ".shardedstore-parts";

/**
 * One part of a conversion split over N runs (`--part K/N`, 1 ≤ K ≤ N).
 *
 * @example
 * ```ts
 * const part: Part = { k: 2, n: 8 };
 * ```
 */
export interface Part {
  k: number;
  n: number;
}

/**
 * Parses `--part K/N` (the convention of vitest/jest/playwright `--shard`).
 *
 * @example
 * ```ts
 * parsePart("2/8"); // { k: 2, n: 8 }
 * ```
 */
export function parsePart(value: string): Part {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (m === null || !Number.isSafeInteger(n) || n < 1 || k < 1 || k > n) {
    throw new InvalidArgumentError("must be K/N with 1 ≤ K ≤ N, e.g. 2/8.");
  }
  return { k, n };
}

/**
 * A store's name for splitting: `base`, `group:PATH`, `array:PATH:I,J`.
 *
 * @example
 * ```ts
 * storeId("array", "sim/foo", [1, 2]); // "array:sim/foo:1,2"
 * ```
 */
export function storeId(kind: "base" | "group" | "array", mount: string, index?: readonly number[]): string {
  if (kind === "base") return "base";
  if (kind === "group") return `group:${mount}`;
  return `array:${mount}:${(index ?? []).join(",")}`;
}

/**
 * The part (1…n) a store belongs to: FNV-1a of its {@link storeId} modulo n. It depends on the
 * store alone, so every run (on any machine) agrees without seeing the others' stores.
 *
 * @example
 * ```ts
 * partOf("base", 4); // a number in 1…4, always the same
 * ```
 */
export function partOf(id: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return (h % n) + 1;
}

/**
 * One store a part wrote: where it sits in the composition and its file or folder (an absolute
 * path for a local `--out`; the path below the output prefix for `s3://`).
 *
 * @example
 * ```ts
 * const s: PartStore = { kind: "array", mount: "sim/foo", index: [0], path: "/out/data/sim/foo/0.zarr.zip" };
 * ```
 */
export interface PartStore {
  kind: "base" | "group" | "array";
  mount: string;
  index?: number[];
  path: string;
}

/**
 * What one part of a split `convert` or `reshard` did, in `OUT/.shardedstore-parts/K-of-N.json`.
 *
 * @example
 * ```ts
 * const m: PartManifest = { command: "convert", source: "/a/composition.json", type: "zip", part: 1, of: 2, complete: true, groups: [], arrays: {}, stores: [] };
 * ```
 */
export interface PartManifest {
  command: "convert" | "reshard";
  source: string;
  type: "zip" | "dir";
  part: number;
  of: number;
  complete: boolean;
  /** The composition's group mounts and sharded arrays (dimensions), the same in every part. */
  groups: string[];
  arrays: Record<string, number>;
  /**
   * The index boxes the source's config declared for an array (compact form), the same in every
   * part: the finalized config declares that array by them too (absent: no array was declared so).
   */
  indices?: Record<string, IndexBox[]>;
  stores: PartStore[];
}

/**
 * The file name of a part's manifest: `K-of-N.json`.
 *
 * @example
 * ```ts
 * manifestName({ k: 2, n: 8 }); // "2-of-8.json"
 * ```
 */
export const manifestName = (p: Part): string => `${p.k}-of-${p.n}.json`;

const manifestPath = (out: string, p: Part) => path.join(out, PARTS_DIR, manifestName(p));

/**
 * Writes a part's manifest atomically (a finished part is never seen half-written).
 *
 * @example
 * ```ts
 * await writeManifest("out", manifest);
 * ```
 */
export async function writeManifest(out: string, m: PartManifest): Promise<void> {
  const file = manifestPath(out, { k: m.part, n: m.of });
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.~${randomBytes(4).toString("hex")}`;
  await writeFile(tmp, `${JSON.stringify(m, null, 2)}\n`);
  await rename(tmp, file);
}

/**
 * Reads a part's manifest; `undefined` when there is none.
 *
 * @example
 * ```ts
 * const done = (await readManifest("out", { k: 1, n: 4 }))?.complete === true;
 * ```
 */
export async function readManifest(out: string, p: Part): Promise<PartManifest | undefined> {
  const text = await readFile(manifestPath(out, p), "utf8").catch((e: { code?: string }) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  return text === undefined ? undefined : (JSON.parse(text) as PartManifest);
}

/**
 * Every manifest file name in `OUT/.shardedstore-parts` (`K-of-N.json`).
 *
 * @example
 * ```ts
 * await listManifests("out"); // [{ k: 1, n: 2 }, { k: 2, n: 2 }]
 * ```
 */
export async function listManifests(out: string): Promise<Part[]> {
  return partsNamed(await readdir(path.join(out, PARTS_DIR)).catch(() => [] as string[]));
}

/**
 * Where the manifests of a split run live: a local `--out` folder or an `s3://` output prefix.
 *
 * @example
 * ```ts
 * const place: PartsPlace = localParts("out");
 * const done = (await place.read({ k: 1, n: 4 }))?.complete === true;
 * ```
 */
export interface PartsPlace {
  /** The output, for messages. */
  readonly label: string;
  read(p: Part): Promise<PartManifest | undefined>;
  write(m: PartManifest): Promise<void>;
  list(): Promise<Part[]>;
}

/**
 * The manifests of a local `--out` folder (`OUT/.shardedstore-parts/K-of-N.json`).
 *
 * @example
 * ```ts
 * await localParts("out").list(); // [{ k: 1, n: 2 }, { k: 2, n: 2 }]
 * ```
 */
export function localParts(out: string): PartsPlace {
  return {
    label: out,
    read: (p) => readManifest(out, p),
    write: (m) => writeManifest(out, m),
    list: () => listManifests(out),
  };
}

/**
 * The parts named `K-of-N.json` among file names, sorted.
 *
 * @example
 * ```ts
 * partsNamed(["2-of-2.json", "x", "1-of-2.json"]); // [{ k: 1, n: 2 }, { k: 2, n: 2 }]
 * ```
 */
export function partsNamed(names: Iterable<string>): Part[] {
  const parts: Part[] = [];
  for (const name of names) {
    const m = /^(\d+)-of-(\d+)\.json$/.exec(name);
    if (m) parts.push({ k: Number(m[1]), n: Number(m[2]) });
  }
  return parts.sort((a, b) => a.n - b.n || a.k - b.k);
}
