import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DirectoryStore } from "../src/directory-store.js";
import { MemoryStore } from "../src/memory-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { Store } from "../src/types.js";
import { storeConformance } from "./helpers/conformance.js";

const dirs = new Map<Store, string>();
async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "ss-conf-"));
}
async function dirStore(): Promise<DirectoryStore> {
  const d = await tempDir();
  const s = new DirectoryStore(d);
  dirs.set(s, d);
  return s;
}
async function cleanup(s: Store) {
  const d = dirs.get(s);
  if (d) await rm(d, { recursive: true, force: true });
}

storeConformance("MemoryStore", { make: () => new MemoryStore() });
storeConformance("DirectoryStore", { make: dirStore, cleanup });
storeConformance("ShardedStore over MemoryStores", {
  make: () =>
    new ShardedStore(new MemoryStore(), { shards: { a: new MemoryStore(), "b/c": new MemoryStore() } }),
});
storeConformance("ShardedStore over DirectoryStores", {
  make: async () => {
    const d = await tempDir();
    const s = new ShardedStore(new DirectoryStore(`${d}/base`), {
      shards: { a: new DirectoryStore(`${d}/a`), "b/c": new DirectoryStore(`${d}/bc`) },
    });
    dirs.set(s, d);
    return s;
  },
  cleanup,
});
storeConformance("ShardedStore with no shards at all", { make: () => new ShardedStore(new MemoryStore()) });
