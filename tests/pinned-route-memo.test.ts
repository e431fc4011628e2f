// What RouteMemo promises a ShardedStore: a key routed once costs no memory beyond a mark, a key seen
// twice is remembered, a working set of up to 2 × limit keys stays remembered, and neither the routes
// nor the marks grow past their bounds however many keys stream through.
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../src/memory-store.js";
import { RouteMemo } from "../src/route-memo.js";
import type { AbsolutePath, Resolution } from "../src/types.js";

const store = new MemoryStore();
const route = (key: string): Resolution => ({ store, key: key as AbsolutePath, mount: "", kind: "base" });
const keys = (n: number, tag = "k") => Array.from({ length: n }, (_, i) => `/${tag}/${i}`);

describe("RouteMemo", () => {
  it("remembers a route on its key's second sight only, and the route offered then", () => {
    const memo = new RouteMemo(8);
    const first = route("/a");
    expect(memo.offer("/a", first)).toBe(first);
    expect(memo.get("/a")).toBeUndefined();
    const second = route("/a");
    expect(memo.offer("/a", second)).toBe(second);
    expect(memo.get("/a")).toBe(second);
    expect(memo.young("/a")).toBe(second);
  });

  it("admit remembers at once; clear forgets every remembered route", () => {
    const memo = new RouteMemo(4);
    const all = keys(6);
    for (const k of all) memo.admit(k, route(k));
    expect(all.filter((k) => memo.get(k) !== undefined)).toEqual(all);
    memo.clear();
    expect(all.filter((k) => memo.get(k) !== undefined)).toEqual([]);
    expect(all.filter((k) => memo.old(k) !== undefined || memo.young(k) !== undefined)).toEqual([]);
  });

  for (const limit of [1, 3, 16]) {
    it(`keeps the last 2 × limit routes of a stream and never more (limit ${limit})`, () => {
      const memo = new RouteMemo(limit);
      const all = keys(limit * 7 + 1);
      for (let i = 0; i < all.length; i++) {
        const k = all[i]!;
        const r = route(k);
        expect(memo.admit(k, r)).toBe(r);
        const kept = all.slice(0, i + 1).filter((x) => memo.get(x) !== undefined);
        // Never more than two generations of routes ...
        expect(kept.length).toBeLessThanOrEqual(2 * limit);
        // ... and always at least the last `limit`, which are the newest.
        expect(kept.slice(-Math.min(limit, i + 1))).toEqual(all.slice(Math.max(0, i + 1 - limit), i + 1));
        for (const x of kept) expect(memo.get(x)!.key).toBe(x);
      }
      // A working set of exactly 2 × limit keys, admitted in one pass, is all still there.
      const fresh = new RouteMemo(limit);
      const set = keys(2 * limit, "w");
      for (const k of set) fresh.admit(k, route(k));
      expect(set.filter((k) => fresh.get(k) !== undefined)).toEqual(set);
    });
  }

  it("serves an older generation's route through get and old, not through young", () => {
    const memo = new RouteMemo(2);
    for (const k of ["/a", "/b", "/c"]) memo.admit(k, route(k));
    // "/a" and "/b" filled the young generation; "/c" turned them into the old one.
    expect(memo.young("/a")).toBeUndefined();
    expect(memo.old("/a")?.key).toBe("/a");
    expect(memo.get("/a")?.key).toBe("/a");
    expect(memo.young("/c")?.key).toBe("/c");
    expect(memo.old("/c")).toBeUndefined();
  });

  it("a young route wins over an older generation's route of the same key", () => {
    const memo = new RouteMemo(2);
    const stale = route("/a");
    memo.admit("/a", stale);
    memo.admit("/b", route("/b"));
    memo.admit("/c", route("/c")); // "/a" is now in the old generation
    const fresh = route("/a");
    memo.admit("/a", fresh);
    expect(memo.get("/a")).toBe(fresh);
  });

  it("keeps at most `limit` marks: a key seen once, then `limit` other keys, is only marked again", () => {
    for (const limit of [1, 2, 5]) {
      const memo = new RouteMemo(limit);
      memo.offer("/once", route("/once"));
      for (const k of keys(limit)) memo.offer(k, route(k));
      memo.offer("/once", route("/once"));
      expect(memo.get("/once")).toBeUndefined();
      // Fewer other keys in between: the mark is still there and the second sight remembers.
      const near = new RouteMemo(limit);
      near.offer("/once", route("/once"));
      for (const k of keys(limit - 1)) near.offer(k, route(k));
      near.offer("/once", route("/once"));
      expect(near.get("/once")?.key).toBe("/once");
    }
  });

  it("the key whose first sight clears the full marks is itself marked: its second sight remembers", () => {
    for (const limit of [1, 2, 5]) {
      const memo = new RouteMemo(limit);
      const others = keys(limit);
      for (const k of others) memo.offer(k, route(k)); // the marks are full now
      memo.offer("/late", route("/late")); // clears them, marking "/late"
      memo.offer("/late", route("/late"));
      expect(memo.get("/late")?.key, `limit ${limit}`).toBe("/late");
    }
  });

  it("a stream of keys each routed once remembers no route at all", () => {
    const memo = new RouteMemo(4);
    const all = keys(50);
    for (const k of all) memo.offer(k, route(k));
    expect(all.filter((k) => memo.get(k) !== undefined)).toEqual([]);
  });

  it("uses a default limit large enough for a working set of 2^15 keys", () => {
    const memo = new RouteMemo();
    const all = keys(1 << 15);
    for (const k of all) memo.admit(k, route(k));
    expect(all.every((k) => memo.get(k) !== undefined)).toBe(true);
  });
});
