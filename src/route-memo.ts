// Remembered routes of a ShardedStore: admitted on a key's second sight, kept in two generations.
import type { Resolution } from "./types.js";

const LIMIT = 1 << 15;

/**
 * Remembered routes. A key seen once is only marked (a Set of keys, no route kept), so a stream of
 * keys routed once — a full read of a big array — costs no memo growth and no garbage-collector
 * promotion of routes; its second sight remembers the route. When the young generation is full it
 * becomes the old one (still read), so a working set up to `2 × limit` keys stays remembered.
 *
 * @example
 * ```ts
 * const memo = new RouteMemo();
 * memo.offer("/a/0", route); // first sight: marked only
 * memo.offer("/a/0", route); // second sight: remembered
 * memo.get("/a/0"); // route
 * ```
 */
export class RouteMemo {
  #young = new Map<string, Resolution>();
  #old = new Map<string, Resolution>();
  #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit = LIMIT) {
    this.#limit = limit;
  }

  /** The remembered route of `key`, if any (young generation first). */
  get(key: string): Resolution | undefined {
    return this.#young.get(key) ?? this.#old.get(key);
  }

  /** The young generation only: the hot path of `resolve`, small enough to inline. */
  young(key: string): Resolution | undefined {
    return this.#young.get(key);
  }

  /** The old generation only (after a miss in the young one). */
  old(key: string): Resolution | undefined {
    return this.#old.get(key);
  }

  /** Remembers `r` for `key` now. */
  admit(key: string, r: Resolution): Resolution {
    if (this.#young.size >= this.#limit) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, r);
    return r;
  }

  /** Offers a freshly computed route: remembered on the key's second sight. */
  offer(key: string, r: Resolution): Resolution {
    const seen = this.#seen;
    if (seen.has(key)) return this.admit(key, r);
    if (seen.size >= this.#limit) this.#seen = new Set([key]);
    else seen.add(key);
    return r;
  }

  /** Forgets every route (an array's layout changed). */
  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }
}
