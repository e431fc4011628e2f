// Remembered routes of a ShardedStore: admitted on a key's second sight, in one bounded map.
import type { Resolution } from "./types.js";

const LIMIT = 1 << 15;

/**
 * Remembered routes, in one map of at most `limit` routes (default 32,768: a working set of that
 * many keys stays remembered). A key seen once is only marked — its hash (from
 * {@link checkedKeyHash}) written into a fixed table of 32,768 slots in buckets of eight — so a stream of keys routed
 * once (a full read of a big array) costs a miss in a map that holds only routes worth keeping, plus
 * one store into a small typed array, and keeps nothing alive for the garbage collector to move. A
 * key whose mark is still there on its next sight has its route remembered (a mark overwritten by
 * another key's only delays that). A full map is dropped and starts again.
 *
 * @example
 * ```ts
 * const memo = new RouteMemo();
 * const h = checkedKeyHash("/a/0", "here");
 * memo.offer("/a/0", h, route); // first sight: marked only
 * memo.offer("/a/0", h, route); // second sight: remembered
 * memo.get("/a/0"); // route
 * ```
 */
export class RouteMemo {
  #map = new Map<string, Resolution>();
  readonly #seen = new Int32Array(1 << 15);
  readonly #limit: number;

  constructor(limit = LIMIT) {
    this.#limit = limit;
  }

  /** The remembered route of `key`, if any. */
  get(key: string): Resolution | undefined {
    return this.#map.get(key);
  }

  /**
   * Offers a route just computed for `key` (whose hash is `hash`, never 0): remembered when the key
   * was marked before, marked otherwise. Returns the route.
   */
  offer(key: string, hash: number, r: Resolution): Resolution {
    // Eight slots per bucket (half a cache line): keys sharing a bucket do not evict each other's
    // marks on every sight, so a working set keeps being admitted.
    const seen = this.#seen;
    const bucket = (hash ^ (hash >>> 15)) & 0x7ff8; // 32,768 slots: 4,096 buckets of 8
    let free = -1;
    for (let i = bucket; i < bucket + 8; i++) {
      const v = seen[i];
      if (v === hash) {
        if (this.#map.size >= this.#limit) this.#map = new Map();
        this.#map.set(key, r);
        return r;
      }
      if (v === 0 && free === -1) free = i;
    }
    seen[free === -1 ? bucket + ((hash >>> 20) & 7) : free] = hash;
    return r;
  }

  /** Number of routes remembered; never above the limit. */
  get size(): number {
    return this.#map.size;
  }

  /** Forgets every route (an array's layout changed); marks hold no route and stay. */
  clear(): void {
    this.#map.clear();
  }
}
