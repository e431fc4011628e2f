// Remembered routes of a ShardedStore: admitted on a key's second sight, in one bounded map.
import type { Resolution } from "./types.js";

const LIMIT = 1 << 15;

/**
 * Remembered routes, in one map of at most `limit` keys (default 32,768: a working set of that
 * many keys stays remembered; a smaller map makes cold keys cheaper, see bench/routing.mjs). A key seen once is only marked (`null`,
 * no route kept), so a stream of keys routed once — a full read of a big array — costs one lookup
 * and one insertion per key and keeps no routes alive for the garbage collector to move; its second
 * sight remembers the route. A full map is dropped and starts again (a hot key comes back on its
 * next two sights).
 *
 * @example
 * ```ts
 * const memo = new RouteMemo();
 * memo.offer("/a/0", memo.get("/a/0"), route); // first sight: marked only
 * memo.offer("/a/0", memo.get("/a/0"), route); // second sight: remembered
 * memo.get("/a/0"); // route
 * ```
 */
export class RouteMemo {
  #map = new Map<string, Resolution | null>();
  readonly #limit: number;

  constructor(limit = LIMIT) {
    this.#limit = limit;
  }

  /** The remembered route of `key`; `null` when it was seen once, `undefined` when never. */
  get(key: string): Resolution | null | undefined {
    return this.#map.get(key);
  }

  /**
   * Offers a route just computed for `key`, given what {@link get} said of it: remembered when the
   * key was seen before (`null`), marked otherwise. Returns the route.
   */
  offer(key: string, seen: Resolution | null | undefined, r: Resolution): Resolution {
    const map = this.#map;
    if (seen === undefined && map.size >= this.#limit) this.#map = new Map([[key, null]]);
    else map.set(key, seen === undefined ? null : r);
    return r;
  }

  /** Number of keys held (remembered or marked); never above the limit. */
  get size(): number {
    return this.#map.size;
  }

  /** Forgets every route (an array's layout changed). */
  clear(): void {
    this.#map.clear();
  }
}
