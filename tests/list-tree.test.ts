// The one-walk listing of directory index stores (listStoreKeys) against the straightforward one:
// listIndices to find the stores, then each DirectoryStore's own list().
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrayShardDirectoryStore, listIndexStores } from "../src/array-shard-factories.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ArrayShardError, ConfigError } from "../src/errors.js";
import { listDirectoryIndexTree } from "../src/index-tree.js";
import { MemoryStore } from "../src/memory-store.js";
import { openShardedStore, ShardedStore, saveShardedStore } from "../src/node.js";
import type { AbsolutePath, ArrayShardFactory, Store } from "../src/types.js";
import { arrayShardZipStore } from "../src/zip-shards.js";
import { ZipStore } from "../src/zip-store-node.js";
import { v2Array as zarray } from "./helpers/metadata.js";

let dir: string;
let outside: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-list-tree-"));
  // Targets of symlinks that lead out of a prefix.
  outside = path.join(dir, "outside");
  await mkdir(path.join(outside, "store", "c", "0"), { recursive: true });
  await writeFile(path.join(outside, "store", ".zarray"), "{}");
  await writeFile(path.join(outside, "store", "0.0"), "x");
  await writeFile(path.join(outside, "store", "1"), "x");
  await writeFile(path.join(outside, "store", "c", "0", "1"), "x");
  await mkdir(path.join(outside, "index", "4.zarr"), { recursive: true });
  await writeFile(path.join(outside, "index", "4.zarr", ".zarray"), "{}");
  await writeFile(path.join(outside, "index", "4.zarr", "1.1"), "x");
  await writeFile(path.join(outside, "index", "4.zarr", "0"), "x");
  await writeFile(path.join(outside, "file"), "x");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const enc = new TextEncoder();

/** What can sit in an index store folder. */
const innerKey = fc.constantFrom(
  "0",
  "1",
  "1.2",
  "0.0.1",
  "c/0",
  "c/1/2",
  "d/0/0/1",
  ".zattrs",
  "sub/.zarray",
  ".~ss-0.tmp",
  ".~ss-dir/x",
  "weird name",
);
const storeSpec = fc.record({
  index: fc.tuple(fc.nat(3), fc.nat(3)),
  meta: fc.constantFrom("none", ".zarray", "zarr.json", "link", "dangling"),
  keys: fc.uniqueArray(innerKey, { maxLength: 4 }),
  /** How the store folder itself is reached. */
  via: fc.constantFrom("folder", "folder", "folder", "link-out", "link-file", "link-loop"),
  /** Extra symlinks inside the store (keys that are links, never entered). */
  inner: fc.constantFrom("none", "file-link", "folder-link"),
});
const treeSpec = fc.record({
  separator: fc.constantFrom("/", ".") as fc.Arbitrary<"/" | ".">,
  stores: fc.uniqueArray(storeSpec, { maxLength: 7, selector: (s) => s.index.join(",") }),
  junk: fc.subarray(["x/1.zarr/0", "7.zarr.bak/0", "3.zarr-file", "12/junk/0", "9/.~ss-9.zarr/0"]),
  linkedIndexFolder: fc.boolean(),
});
type TreeSpec = typeof treeSpec extends fc.Arbitrary<infer T> ? T : never;

let trees = 0;
/** Writes a random prefix of directory index stores; returns its root. */
async function writeTree(t: TreeSpec): Promise<string> {
  const root = path.join(dir, `t${trees++}`);
  await mkdir(root, { recursive: true });
  for (const s of t.stores) {
    const at = path.join(root, `${s.index.join(t.separator)}.zarr`);
    await mkdir(path.dirname(at), { recursive: true });
    if (s.via === "link-out") {
      await symlink(path.join(outside, "store"), at);
      continue;
    }
    if (s.via === "link-loop") {
      await symlink(at, at);
      continue;
    }
    if (s.via === "link-file") {
      await symlink(path.join(outside, "file"), at);
      continue;
    }
    await mkdir(at, { recursive: true });
    if (s.meta === ".zarray" || s.meta === "zarr.json") await writeFile(path.join(at, s.meta), "{}");
    if (s.meta === "link") await symlink(path.join(outside, "store", ".zarray"), path.join(at, ".zarray"));
    if (s.meta === "dangling") await symlink(path.join(outside, "gone"), path.join(at, "zarr.json"));
    for (const k of s.keys) {
      await mkdir(path.dirname(path.join(at, k)), { recursive: true });
      await writeFile(path.join(at, k), "v");
    }
    if (s.inner === "file-link") await symlink(path.join(outside, "file"), path.join(at, "linked"));
    if (s.inner === "folder-link") await symlink(path.join(outside, "store"), path.join(at, "c-linked"));
  }
  for (const j of t.junk) {
    await mkdir(path.dirname(path.join(root, j)), { recursive: true });
    await writeFile(path.join(root, j), "j");
  }
  if (t.linkedIndexFolder && t.separator === "/")
    await symlink(path.join(outside, "index"), path.join(root, "5"));
  return root;
}

/** The straightforward listing: listIndices, then each store's own list(), keys sorted. */
async function straightforward(root: string, separator: "/" | "."): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const index of listIndexStores(root, separator, ".zarr", "directory")) {
    const keys: string[] = [];
    for await (const k of new DirectoryStore(`${root}/${index.join(separator)}.zarr`).list()) keys.push(k);
    out.set(index.join(","), keys.sort());
  }
  return out;
}

describe("listDirectoryIndexTree", () => {
  it("finds the index stores listIndices finds, each with the keys its own list() gives, over random trees with symlinks", async () => {
    await fc.assert(
      fc.asyncProperty(treeSpec, async (t) => {
        const root = await writeTree(t);
        const expected = await straightforward(root, t.separator);
        const got = new Map<string, string[]>();
        const all = new Map<string, string[] | null>();
        for (const s of await listDirectoryIndexTree(root, t.separator, ".zarr")) {
          all.set(s.index.join(","), s.keys === null ? null : [...s.keys].sort());
          if (s.metadata) got.set(s.index.join(","), s.keys === null ? [] : [...s.keys].sort());
        }
        expect(got).toEqual(expected);
        // Folders without metadata are reported too (an index store given elsewhere may be one), keys and all.
        for (const [id, keys] of all) {
          if (expected.has(id) || keys === null) continue;
          const index = id.split(",").map(Number);
          const own: string[] = [];
          for await (const k of new DirectoryStore(`${root}/${index.join(t.separator)}.zarr`).list())
            own.push(k);
          expect(keys).toEqual(own.sort());
        }
      }),
      { numRuns: 60 },
    );
  });

  it("reads nothing for a missing prefix and fails with the cause for an unreadable one", async () => {
    expect(await listDirectoryIndexTree(path.join(dir, "missing"), "/", ".zarr")).toEqual([]);
    const file = path.join(dir, "a-file");
    await writeFile(file, "x");
    expect(await listDirectoryIndexTree(file, "/", ".zarr")).toEqual([]);
    const aborted = AbortSignal.abort(new Error("stop"));
    await expect(listDirectoryIndexTree(outside, "/", ".zarr", aborted)).rejects.toThrow("stop");
  });
});

/** The same factory without listStoreKeys: the composition lists each index store by itself. */
function withoutTree(f: ArrayShardFactory): ArrayShardFactory {
  const slow = ((index: readonly number[]) => f(index)) as ArrayShardFactory;
  if (f.listIndices) slow.listIndices = f.listIndices;
  return slow;
}

async function listOf(store: ShardedStore, prefix?: AbsolutePath): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of store.list(prefix)) keys.push(k);
  return keys.sort();
}

/** Each store of `shardKeys()` by kind, mount and index, with its keys sorted. */
async function storeKeys(store: ShardedStore): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const e of store.shardKeys())
    out.set(`${e.kind} ${e.mount} ${e.index ?? ""}`, [...e.keys].sort());
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

const compositionSpec = fc.record({
  tree: treeSpec,
  chunkSep: fc.constantFrom(".", "/") as fc.Arbitrary<"." | "/">,
  /** How the index stores are given: by the factory alone, as a compact config would, or each one. */
  given: fc.constantFrom("factory", "indices", "stores"),
  /** An index store given as another store (not the factory's): listed by itself. */
  foreign: fc.option(fc.tuple(fc.nat(3), fc.nat(3)), { nil: undefined }),
  /** A group shard beside the array. */
  group: fc.boolean(),
  prefix: fc.constantFrom(undefined, "/a", "/a/0", "/a/c", "/b"),
});

describe("ShardedStore.list() of directory index stores", () => {
  it("equals the straightforward per-store listing over random compositions", async () => {
    await fc.assert(
      fc.asyncProperty(compositionSpec, async (c) => {
        const root = await writeTree(c.tree);
        // Array `a` of shape [6, 6, 4], chunks [1, 1, 2], sharded over 2 dims: index stores hold chunks "0" and "1".
        const meta = zarray([6, 6, 4], [1, 1, 2], c.chunkSep);
        const groupStore = new MemoryStore();
        await groupStore.set("/x/0", enc.encode("g"));
        const make = async (factory: ArrayShardFactory) => {
          const base = new MemoryStore();
          await base.set("/a/.zarray", meta);
          const fast = arrayShardDirectoryStore(root, { separator: c.tree.separator });
          const stores: { index: readonly number[]; store: Store }[] = [];
          const listed = await straightforward(root, c.tree.separator);
          if (c.given === "stores")
            for (const id of listed.keys()) {
              const index = id.split(",").map(Number);
              stores.push({ index, store: fast(index) as Store });
            }
          if (c.foreign !== undefined) {
            const m = new MemoryStore();
            await m.set("/0", enc.encode("f"));
            await m.set("/0.1", enc.encode("f"));
            const id = c.foreign.join(",");
            const at = stores.findIndex((s) => s.index.join(",") === id);
            if (at >= 0) stores.splice(at, 1);
            stores.push({ index: c.foreign, store: m });
          }
          const indices =
            c.given === "indices" ? [...listed.keys()].map((id) => id.split(",").map(Number)) : [];
          return new ShardedStore(base, {
            ...(c.group ? { shards: { b: groupStore } } : {}),
            arrayShards: {
              a: {
                dims: 2,
                factory,
                ...(stores.length > 0 ? { stores } : {}),
                ...(indices.length > 0 ? { indices } : {}),
              },
            },
          });
        };
        const factory = arrayShardDirectoryStore(root, { separator: c.tree.separator });
        const fast = await make(factory);
        const slow = await make(withoutTree(factory));
        const prefix = c.prefix as AbsolutePath | undefined;
        expect(await listOf(fast, prefix)).toEqual(await listOf(slow, prefix));
        // Every store with its own keys: the same stores (as shards() finds them), the same keys.
        expect(await storeKeys(fast)).toEqual(await storeKeys(slow));
        expect([...(await storeKeys(fast)).keys()]).toEqual(
          (await slow.shards()).map((e) => `${e.kind} ${e.mount} ${e.index ?? ""}`).sort(),
        );
      }),
      { numRuns: 60 },
    );
  });

  it("lists zip index stores from their central directories, as each store lists itself", async () => {
    const root = path.join(dir, "zips");
    const base = new MemoryStore();
    await base.set("/a/.zarray", zarray([6, 4], [1, 2], "."));
    const writes: [number, string][] = [
      [0, "0"],
      [2, "1"],
      [5, "0"],
    ];
    for (const [i, k] of writes) {
      const z = new ZipStore(path.join(root, `${i}.zarr.zip`), { mode: "w" });
      await z.set("/.zarray", zarray([4], [2], "."));
      await z.set(`/${k}` as AbsolutePath, enc.encode("v"));
      await z.close();
    }
    const fast = new ShardedStore(base, {
      arrayShards: { a: { dims: 1, factory: arrayShardZipStore(root) } },
    });
    const slow = new ShardedStore(base, {
      arrayShards: { a: { dims: 1, factory: withoutTree(arrayShardZipStore(root)) } },
    });
    const keys = await listOf(fast);
    expect(keys).toEqual(["/a/.zarray", "/a/0.0", "/a/2.1", "/a/5.0"]);
    expect(keys).toEqual(await listOf(slow));
    expect(await storeKeys(fast)).toEqual(await storeKeys(slow));
    // Sizes come from the central directory: right for stored entries, undefined for missing ones.
    const zip = new ZipStore(path.join(root, "2.zarr.zip"));
    expect(await zip.sizeOf("/1")).toBe(1);
    expect(await zip.sizeOf("/.zarray")).toBe(zarray([4], [2], ".").byteLength);
    expect(await zip.sizeOf("/nope")).toBeUndefined();
    await expect(zip.sizeOf("/../x" as AbsolutePath)).rejects.toThrow(/'\.\.'/);
    await zip.close();
    await fast.close();
    await slow.close();
  });

  it("stays confined: a config opened confined lists its folder's stores in one pass and refuses a store linked out of it", async () => {
    const folder = path.join(dir, "confined");
    const base = new DirectoryStore(path.join(folder, "base.zarr"));
    await base.set("/a/.zarray", zarray([4, 4], [1, 2], "."));
    for (const i of [0, 1, 3]) {
      const s = new DirectoryStore(path.join(folder, "a", `${i}.zarr`));
      await s.set("/.zarray", zarray([4], [2], "."));
      await s.set("/1", enc.encode("v"));
    }
    const made = new ShardedStore(base, {
      arrayShards: { a: { dims: 1, factory: arrayShardDirectoryStore(path.join(folder, "a")) } },
    });
    const cfg = path.join(folder, "composition.json");
    await saveShardedStore(made, cfg, { form: "compact" });
    const opened = await openShardedStore(cfg, { confine: true });
    expect(await listOf(opened)).toEqual(["/a/.zarray", "/a/0.1", "/a/1.1", "/a/3.1"]);
    // Index store 3 replaced by a link to a store outside the config's folder: refused, as each
    // store's own listing refuses it, never listed.
    await rm(path.join(folder, "a", "3.zarr"), { recursive: true });
    await mkdir(path.join(outside, "three"), { recursive: true });
    await writeFile(path.join(outside, "three", ".zarray"), zarray([4], [2], "."));
    await writeFile(path.join(outside, "three", "0"), "secret");
    await symlink(path.join(outside, "three"), path.join(folder, "a", "3.zarr"));
    const again = await openShardedStore(cfg, { confine: true });
    const err = await listOf(again).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(ArrayShardError);
    expect(err?.cause).toBeInstanceOf(ConfigError);
    expect(String((err?.cause as Error | undefined)?.message)).toMatch(
      /symbolic link .*outside the config's folder/,
    );
    // Unconfined, the link is followed, as a DirectoryStore reads its own root.
    expect(await listOf(await openShardedStore(cfg))).toEqual(["/a/.zarray", "/a/0.1", "/a/1.1", "/a/3.0"]);
  });
});
