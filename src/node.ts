export { arrayShardDirectoryStore, type DescribedFactory } from "./array-shard-factories.js";
export { DirectoryStore } from "./directory-store.js";
export * from "./index.js";
export { ZipFilePool, type ZipFilePoolStats, zipFilePool } from "./zip-pool.js";
export { arrayShardZipStore, toZipStoreWithPrefix, zipPathFor } from "./zip-shards.js";
// The Node ZipStore reads like the isomorphic one and also reads and writes zip files.
export { type NodeZipStoreOptions, ZipStore } from "./zip-store-node.js";

import "./config/node-types.js";

export { openShardedStore, type SaveOptions, saveShardedStore } from "./config/node-io.js";
export {
  type PackCompositionOptions,
  packComposition,
  unpackComposition,
} from "./pack/pack-composition.js";
