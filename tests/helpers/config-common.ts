import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { expect } from "vitest";
import * as zarr from "zarrita";
import {
  type FromConfigOptions,
  shardedStoreFromConfig,
  type ToConfigOptions,
} from "../../src/config/codec.js";
import type { StoreConfig } from "../../src/config/registry.js";
import type { ShardedStore } from "../../src/sharded-store.js";
import type { AbsolutePath, Store } from "../../src/types.js";
import { listAll, ramp } from "./arrays.js";

/** The Python original's fixtures (slash/, dot/). */
export const SEED = new URL("../fixtures/python-seed/", import.meta.url).pathname;

/** The schema file the package publishes, compiled by its own Ajv instance (not the codec's). */
const published = new Ajv({ strict: false, allErrors: true }).compile(
  JSON.parse(readFileSync(new URL("../../config.schema.json", import.meta.url), "utf8")),
);

/** Asserts that a config is valid against the published `config.schema.json`. */
export function expectSchemaValid(config: unknown, label = "config"): void {
  const ok = published(config);
  expect(ok, `${label}: ${JSON.stringify(published.errors)}`).toBe(true);
}

/** `store.toConfig(options)`, checked against the published schema: every config the tests produce is. */
export function produce(store: ShardedStore, options?: ToConfigOptions): StoreConfig {
  const config = store.toConfig(options);
  expectSchemaValid(config);
  return config;
}

/** `fromConfig` of the config after a trip through JSON text. */
export function reload(config: StoreConfig, options?: FromConfigOptions): ShardedStore {
  return shardedStoreFromConfig(JSON.parse(JSON.stringify(config)), options);
}

/** Creates a float32 array at `p` through zarrita and fills it with a ramp. */
export async function writeArray(store: Store, p: string, shape: number[], chunks: number[], seed = 1) {
  const a = await zarr.create(zarr.root(store as zarr.Mutable).resolve(p), {
    shape,
    chunkShape: chunks,
    dtype: "float32",
  });
  const n = shape.reduce((x, y) => x * y, 1);
  const stride = shape.map((_, d) => shape.slice(d + 1).reduce((x, y) => x * y, 1));
  await zarr.set(a, null, { data: new Float32Array(ramp(n, seed)), shape, stride } as never);
}

/** Asserts that two listable stores hold the same keys under `prefix`, with the same bytes. */
export async function expectSameData(a: Store, b: Store, prefix: AbsolutePath = "/"): Promise<number> {
  const keys = await listAll(a, prefix);
  expect(await listAll(b, prefix), prefix).toEqual(keys);
  for (const k of keys) expect(await b.get(k as AbsolutePath), k).toEqual(await a.get(k as AbsolutePath));
  return keys.length;
}

/** The error `fn` throws (fails the test when it throws none). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error, none was thrown");
}
