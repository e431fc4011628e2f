// Placeholder until the config codec lands (issue 4); the helper replaces this file.
import { ConfigError } from "../errors.js";
import type { ShardedStore } from "../sharded-store.js";

/** Options of {@link shardedStoreFromConfig}. */
export interface FromConfigOptions {
  baseDir?: string;
}

/** The JSON config of a store (Python original's envelope). */
export interface StoreConfig {
  name: string;
  module: string;
  version?: string;
  config: { args: unknown[]; kwargs: Record<string, unknown>; [k: string]: unknown };
  [k: string]: unknown;
}

export function shardedStoreToConfig(_store: ShardedStore): StoreConfig {
  throw new ConfigError("config", "not implemented yet");
}

export function shardedStoreFromConfig(_config: unknown, _options?: FromConfigOptions): ShardedStore {
  throw new ConfigError("config", "not implemented yet");
}
