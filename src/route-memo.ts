// Remembered routes of a ShardedStore: admitted on a key's second sight, in one bounded map.
import type { Resolution } from "./types.js";

const LIMIT = 1 << 15;
const SEEN_BITS = 15;

/**
 * Remembered routes, in one map of at most `limit` routes (default 32,768: a working set of that
 * many keys stays remembered). A key seen once is only marked — its hash (from
 * {@link checkedKeyHash}) written into a fixed table of 32,768 slots in buckets of four — so a stream of keys routed
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
  readonly #seen = new Int32Array(1 << SEEN_BITS);
  readonly #limit: number;
  /** Which slot of a full bucket the next mark replaces. */
  #turn = 0;

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
    // Four slots per bucket (one cache line): keys sharing a bucket do not evict each other's
    // marks on every sight, so a working set keeps being admitted.
    const seen = this.#seen;
    const bucket = ((hash ^ (hash >>> SEEN_BITS)) & ((1 << SEEN_BITS) - 4)) >>> 0;
    let free = -1;
    for (let i = bucket; i < bucket + 4; i++) {
      const v = seen[i];
      if (v === hash) return this.#admit(key, r);
      if (v === 0 && free === -1) free = i;
    }
    if (free === -1) {
      free = bucket + this.#turn;
      this.#turn = (this.#turn + 1) & 3;
    }
    seen[free] = hash;
    return r;
  }

  #admit(key: string, r: Resolution): Resolution {
    if (this.#map.size >= this.#limit) this.#map = new Map();
    this.#map.set(key, r);
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
