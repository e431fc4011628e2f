export { arrayShardDirectoryStore, type DescribedFactory } from "./array-shard-factories.js";
export { DirectoryStore } from "./directory-store.js";
export * from "./index.js";
