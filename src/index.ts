export type { ChunkLayout } from "./array-metadata.js";
export { DEFAULT_PROBE_LIMIT } from "./array-shards.js";
export {
  type FactoryMaker,
  type FactorySpec,
  type FromConfigOptions,
  registerFactoryKind,
  shardedStoreFromConfig,
  shardedStoreToConfig,
  type ToConfigOptions,
} from "./config/codec.js";
export { pythonCompatibilityWarnings } from "./config/python-compat.js";
export {
  type FromConfigContext,
  registerStoreType,
  type StoreConfig,
  type StoreType,
  type ToConfigContext,
} from "./config/registry.js";
export { configSchema } from "./config/schema.js";
export { validateConfig } from "./config/validate.js";
export { type CopyStoreOptions, copyStore } from "./copy-store.js";
export {
  ArrayShardError,
  ConfigError,
  type ErrorTag,
  InvalidKeyError,
  isShardedStoreError,
  MountError,
  NotWritableError,
  ShardedStoreError,
  StoreError,
} from "./errors.js";
export { FetchStore, type FetchStoreOptions } from "./fetch-store.js";
export {
  boxSize,
  compactIndices,
  type IndexBox,
  type IndexRange,
  IndexSet,
} from "./index-set.js";
export {
  type MapShardsOptions,
  mapShards,
  type ShardContext,
  type ShardProgress,
  type ShardTransform,
} from "./map-shards.js";
export { MemoryStore } from "./memory-store.js";
export { S3Store, type S3StoreOptions } from "./s3-store.js";
export { type ShardEntry, ShardedStore, type ShardedStoreOptions } from "./sharded-store.js";
export type {
  AbsolutePath,
  ArrayShardFactory,
  ArrayShardSpec,
  GetOptions,
  RangeQuery,
  Resolution,
  Store,
} from "./types.js";
export { type ByteSource, type ZipSource, ZipStore, type ZipStoreOptions } from "./zip-store.js";
