// How a ShardedStore calls its stores: a foreign store's failure (thrown or rejected) becomes one
// StoreError naming where the key went, the operation and the inner key; our own tagged errors pass
// through as they are; a failure is always a rejected promise, never a synchronous throw.
import { describe, expect, it } from "vitest";
import { isShardedStoreError, markTaggedErrors, NotWritableError, StoreError } from "../src/errors.js";
import { MemoryStore, ShardedStore } from "../src/index.js";
import { describeRoute, describeStore, isTaggedStore } from "../src/store-call.js";
import type { AbsolutePath, Store } from "../src/types.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const fire = () => new Error("disk on fire");

/** A foreign store (no tagged errors) failing in the way asked, for every operation. */
class Failing implements Store {
  constructor(readonly how: "throw" | "reject") {}
  #fail(): never | Promise<never> {
    if (this.how === "throw") throw fire();
    return Promise.reject(fire());
  }
  get(): Uint8Array | undefined {
    return this.#fail() as never;
  }
  set(): void | Promise<void> {
    return this.#fail();
  }
  delete(): void | Promise<void> {
    return this.#fail();
  }
  toString() {
    return `Failing(${this.how})`;
  }
}

/** A store marked as throwing tagged errors, which throws synchronously (a bug we still contain). */
class TaggedSync implements Store {
  calls = 0;
  get(key: AbsolutePath): Uint8Array | undefined {
    this.calls++;
    throw new StoreError("TaggedSync", "get", key, new Error("own failure"));
  }
  set(key: AbsolutePath): void {
    this.calls++;
    throw new StoreError("TaggedSync", "set", key, new Error("own failure"));
  }
}
markTaggedErrors(TaggedSync);

/** Calls `op` without awaiting it, so a synchronous throw is told apart from a rejection. */
function call(op: () => Promise<unknown>): { threw: unknown; promise: Promise<unknown> | null } {
  try {
    return { threw: null, promise: op() };
  } catch (e) {
    return { threw: e, promise: null };
  }
}

describe("calling a foreign store", () => {
  for (const how of ["throw", "reject"] as const) {
    it(`a store that fails by ${how === "throw" ? "throwing" : "rejecting"}: one StoreError naming the store, the operation and the inner key`, async () => {
      const s = new ShardedStore(new MemoryStore(), {
        shards: { g: new Failing(how) },
        arrayShards: { arr: { dims: 1, factory: () => new Failing(how) } },
      });
      const cases: Array<[() => Promise<unknown>, RegExp]> = [
        [
          () => s.get("/g/x/y"),
          /^ShardedStore shard "g" \(Failing\(\w+\)\): get "\/x\/y" failed: disk on fire$/,
        ],
        [
          () => s.set("/g/x", bytes("v")),
          /^ShardedStore shard "g" \(Failing\(\w+\)\): set "\/x" failed: disk on fire$/,
        ],
        [
          () => s.delete("/g/x"),
          /^ShardedStore shard "g" \(Failing\(\w+\)\): delete "\/x" failed: disk on fire$/,
        ],
        [
          () => s.getRange("/g/x", { offset: 0, length: 1 }),
          /^ShardedStore shard "g" \(Failing\(\w+\)\): getRange "\/x" failed: disk on fire$/,
        ],
        // Before the array's metadata is read, a chunk key goes to its index store by its shape.
        [
          () => s.get("/arr/c/4/2"),
          /^ShardedStore shard "arr" \[4\] \(Failing\(\w+\)\): get "\/c\/2" failed: disk on fire$/,
        ],
      ];
      for (const [op, message] of cases) {
        const { threw, promise } = call(op);
        expect(threw).toBeNull();
        const err = await promise!.then(
          () => null,
          (e: unknown) => e,
        );
        expect(isShardedStoreError(err, "StoreError")).toBe(true);
        expect((err as Error).message).toMatch(message);
        expect((err as Error).cause).toBeInstanceOf(Error);
        expect(((err as Error).cause as Error).message).toBe("disk on fire");
      }
    });
  }

  it("a chunk of an array shard names the index store it went to", async () => {
    const base = new MemoryStore();
    const s = new ShardedStore(base, {
      arrayShards: { arr: { dims: 2, factory: () => new Failing("reject") } },
    });
    // A known layout: the key is a chunk, routed to index store [1, 0].
    await s.set(
      "/arr/zarr.json",
      bytes(
        JSON.stringify({
          zarr_format: 3,
          node_type: "array",
          shape: [2, 2, 4],
          data_type: "uint8",
          chunk_grid: { name: "regular", configuration: { chunk_shape: [1, 1, 2] } },
          chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
          codecs: [{ name: "bytes" }],
          fill_value: 0,
        }),
      ),
    );
    const err = await s.get("/arr/c/1/0/1").catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'ShardedStore shard "arr" [1, 0] (Failing(reject)): get "/c/1" failed: disk on fire',
    );
  });

  it("our own errors thrown by a foreign store pass through unwrapped", async () => {
    const own = new NotWritableError("Inner", "/x");
    const inner: Store = {
      get: () => {
        throw own;
      },
      set: () => Promise.reject(own),
    };
    const s = new ShardedStore(new MemoryStore(), { shards: { g: inner } });
    expect(await s.get("/g/x").catch((e: unknown) => e)).toBe(own);
    expect(await s.set("/g/x", bytes("v")).catch((e: unknown) => e)).toBe(own);
  });

  it("a non-Error thrown by a foreign store is still a StoreError with the value as its cause", async () => {
    const inner: Store = {
      get: () => {
        throw "plain string";
      },
    };
    const s = new ShardedStore(new MemoryStore(), { shards: { g: inner } });
    const err = await s.get("/g/x").catch((e: unknown) => e);
    expect(isShardedStoreError(err, "StoreError")).toBe(true);
    expect((err as Error).message).toMatch(/get "\/x" failed: plain string$/);
    expect((err as Error).cause).toBe("plain string");
  });

  it("values a foreign store returns synchronously or as a promise arrive unchanged", async () => {
    const value = bytes("sync");
    const s = new ShardedStore(new MemoryStore(), {
      shards: {
        sync: { get: () => value },
        async: { get: async () => value },
        none: { get: () => undefined },
      },
    });
    expect(await s.get("/sync/x")).toBe(value);
    expect(await s.get("/async/x")).toBe(value);
    expect(await s.get("/none/x")).toBeUndefined();
  });

  it("a write to a store without set is a NotWritableError naming where the key went; nothing is written", async () => {
    const ro: Store = { get: () => undefined };
    const s = new ShardedStore(new MemoryStore(), {
      shards: { ro },
      arrayShards: { arr: { dims: 1, factory: () => ro } },
    });
    const { threw, promise } = call(() => s.set("/ro/x", bytes("v")));
    expect(threw).toBeNull();
    const err = await promise!.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotWritableError);
    expect((err as Error).message).toBe(
      'ShardedStore shard "ro" (Object): cannot set "/x": the store is read-only',
    );
  });
});

describe("calling a store with tagged errors", () => {
  it("its errors are handed through as they are, and a synchronous throw becomes a rejection", async () => {
    const t = new TaggedSync();
    const s = new ShardedStore(new MemoryStore(), { shards: { t } });
    for (const op of [() => s.get("/t/a"), () => s.set("/t/a", bytes("v"))]) {
      t.calls = 0;
      const { threw, promise } = call(op);
      // Called once: a failed write is not silently tried a second time.
      expect(t.calls).toBe(1);
      expect(threw).toBeNull();
      const err = await promise!.catch((e: unknown) => e);
      expect(isShardedStoreError(err, "StoreError")).toBe(true);
      // Not wrapped a second time: the message is the store's own.
      expect((err as Error).message).toMatch(/^TaggedSync: (get|set) "\/a" failed: own failure$/);
    }
  });

  it("a tagged store's values and writes arrive unchanged", async () => {
    const inner = new MemoryStore();
    const s = new ShardedStore(new MemoryStore(), { shards: { m: inner } });
    await s.set("/m/k", bytes("v"));
    expect(await inner.get("/k")).toEqual(bytes("v"));
    expect(await s.get("/m/k")).toEqual(bytes("v"));
  });
});

describe("store names in messages", () => {
  it("a store's own toString, else its class name, else 'store'", () => {
    class Plain implements Store {
      get() {
        return undefined;
      }
    }
    expect(describeStore(new Failing("throw"))).toBe("Failing(throw)");
    expect(describeStore(new Plain())).toBe("Plain");
    const anonymous = { get: () => undefined, constructor: undefined } as unknown as Store;
    expect(describeStore(anonymous)).toBe("store");
    // No prototype at all (String() of it throws): still a name, never a TypeError.
    const bare = Object.assign(Object.create(null), { get: () => undefined }) as Store;
    expect(describeStore(bare)).toBe("store");
  });

  it("a failing store without a prototype still gives a StoreError, not a TypeError from naming it", async () => {
    const bare = Object.assign(Object.create(null), {
      get: () => Promise.reject(fire()),
    }) as Store;
    const s = new ShardedStore(new MemoryStore(), { shards: { g: bare } });
    const err = await s.get("/g/x").catch((e: unknown) => e);
    expect(isShardedStoreError(err, "StoreError")).toBe(true);
    expect((err as Error).message).toBe('ShardedStore shard "g" (store): get "/x" failed: disk on fire');
  });

  it("describes the base store, a group shard and an index store", () => {
    const m = new MemoryStore();
    expect(describeRoute({ store: m, key: "/k", mount: "", kind: "base" })).toBe(
      `ShardedStore base store (${String(m)})`,
    );
    expect(describeRoute({ store: m, key: "/k", mount: "g/h", kind: "group" })).toBe(
      `ShardedStore shard "g/h" (${String(m)})`,
    );
    expect(describeRoute({ store: m, key: "/k", mount: "a", kind: "array", index: [1, 20] })).toBe(
      `ShardedStore shard "a" [1, 20] (${String(m)})`,
    );
  });

  it("knows which stores throw tagged errors", () => {
    expect(isTaggedStore(new MemoryStore())).toBe(true);
    expect(isTaggedStore(new ShardedStore(new MemoryStore()))).toBe(true);
    expect(isTaggedStore(new TaggedSync())).toBe(true);
    expect(isTaggedStore(new Failing("throw"))).toBe(false);
    expect(isTaggedStore({ get: () => undefined })).toBe(false);
  });
});
