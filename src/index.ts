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
export { isRemoteUrl, type RemoteAccess } from "./config/locations.js";
export { type OpenOptions, openShardedStore } from "./config/open-url.js";
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
export { ownedBytes } from "./owned-bytes.js";
export { type PackOptions, type PackReport, packStore, unpackStore } from "./pack/pack-store.js";
export { decodeShardIndex, encodeShard, type ShardIndexEntry } from "./pack/shard-format.js";
export type { RemoteOptions } from "./remote-policy.js";
export {
  arrayShardS3Store,
  parseS3Url,
  type S3Factory,
  type S3LocationOptions,
  s3Url,
  toS3StoreWithPrefix,
} from "./s3-shards.js";
export { type S3ClientLike, type S3Credentials, S3Store, type S3StoreOptions, useS3Sdk } from "./s3-store.js";
export {
  type ShardEntry,
  ShardedStore,
  type ShardedStoreOptions,
  type ShardVisit,
  type ShardVisits,
} from "./sharded-store.js";
export type { RangeStore, StoreZipSource } from "./store-byte-source.js";
export {
  type TensorstoreKvStore,
  type TensorstoreLayer,
  type TensorstoreSpecOptions,
  toTensorstoreSpec,
} from "./tensorstore-spec.js";
export type {
  AbsolutePath,
  ArrayShardFactory,
  ArrayShardSpec,
  GetOptions,
  IndexStoreKeys,
  RangeQuery,
  Resolution,
  Store,
} from "./types.js";
export { type ByteSource, type ZipSource, ZipStore, type ZipStoreOptions } from "./zip-store.js";
