import * as zarr from "zarrita";
import type { Store } from "../../src/types.js";

/** A decoded array as plain JSON-comparable values (nested lists, numbers, strings). */
export interface Decoded {
  dtype: string;
  shape: number[];
  values: unknown;
}

function nest(flat: unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  if (shape.length === 1) return flat;
  const [n, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n ?? 0 }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest));
}

function plain(v: unknown): unknown {
  return typeof v === "bigint" ? Number(v) : v;
}

/** Opens `path` in `store` with zarrita and reads the whole array. */
export async function readArray(store: Store, path: string): Promise<Decoded> {
  const arr = await zarr.open(zarr.root(store as zarr.Readable).resolve(path), { kind: "array" });
  const got = await zarr.get(arr);
  if (arr.shape.length === 0) return { dtype: arr.dtype, shape: [], values: plain(got) };
  const chunk = got as { data: ArrayLike<unknown> & Iterable<unknown>; shape: number[] };
  return { dtype: arr.dtype, shape: chunk.shape, values: nest(Array.from(chunk.data, plain), chunk.shape) };
}

/** Every key of a listable store, sorted. */
export async function listAll(store: Store, prefix?: `/${string}`): Promise<string[]> {
  const out: string[] = [];
  for await (const k of store.list!(prefix)) out.push(k);
  return out.sort();
}

/** A deterministic pseudo-random float32/float64 filler. */
export function ramp(n: number, seed = 1): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return Math.round((x / 2147483648) * 2000 - 1000) / 8;
  });
}

/** C-order strides of a shape, in elements. */
export function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) out[d] = (out[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  return out;
}

/** Whether a path exists on disk. */
export async function exists(p: string): Promise<boolean> {
  const { access } = await import("node:fs/promises");
  return access(p).then(
    () => true,
    () => false,
  );
}
