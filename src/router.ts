import { MountError } from "./errors.js";
import { checkedKeyHash, prefixHash } from "./keys.js";

/** Prefixes of a key recorded for the prefix table; mounts deeper than this use the trie walk. */
const RECORDED = 8;

interface Node<M> {
  /** Children by {@link segmentHash} of their segment; segments sharing a hash are chained by `alt`. */
  children: Map<number, Node<M>> | null;
  mount: M | null;
  path: string;
  /** This node's own segment (the last of `path`). */
  seg: string;
  /** The next child of the same parent whose segment has the same hash. */
  alt: Node<M> | null;
}

/**
 * A 31-bit hash of `key.slice(start, end)`, computed on the key's characters without slicing it.
 *
 * @example
 * ```ts
 * segmentHash("/a/b", 1, 2) === segmentHash("a", 0, 1); // true
 * ```
 */
export function segmentHash(key: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h & 0x7fffffff; // a small integer: a cheap Map key
}

/**
 * A trie of mount paths by segment. `find` walks a key once, segment by segment, so routing costs
 * the key's depth — never the number of mounts — and uses no regular expressions. The walk slices
 * nothing: each segment is hashed in place and compared with the child's segment where it lies.
 *
 * @example
 * ```ts
 * const r = new MountRouter<string>();
 * r.add("simulation/fine", "fine");
 * r.find("/simulation/fine/foo/.zarray"); // { mount: "fine", end: 16 }
 * ```
 */
export class MountRouter<M> {
  readonly #root: Node<M> = { children: null, mount: null, path: "", seg: "", alt: null };
  #size = 0;
  /** Mount nodes, in the order added; the prefix table refers to them by position + 1. */
  readonly #mounts: Node<M>[] = [];
  /** Open addressing over {@link prefixHash} of each mount path: pairs of [hash, position + 1]. */
  #table = new Int32Array(16);
  /** Segments in the deepest mount path. */
  #depth = 0;
  readonly #prefixes = new Int32Array(1 + 2 * RECORDED);
  /** The hash {@link checkedKeyHash} gave the key of the last {@link MountRouter.route} call. */
  lastHash = 0;

  /** Number of mounts. */
  get size(): number {
    return this.#size;
  }

  /** Adds a mount at a normalised path; throws {@link MountError} if it nests with another. */
  add(path: string, mount: M): void {
    let node = this.#root;
    for (const seg of path.split("/")) {
      if (node.mount !== null) {
        throw new MountError(`mount "${path}" is inside mount "${node.path}"; mounts cannot nest`);
      }
      node.children ??= new Map();
      const h = segmentHash(seg, 0, seg.length);
      const first = node.children.get(h) ?? null;
      let child = first;
      while (child !== null && child.seg !== seg) child = child.alt;
      if (child === null) {
        const path = node.path === "" ? seg : `${node.path}/${seg}`;
        child = { children: null, mount: null, path, seg, alt: first };
        node.children.set(h, child);
      }
      node = child;
    }
    if (node.mount !== null) throw new MountError(`mount "${path}" is given twice`);
    if (node.children !== null && node.children.size > 0) {
      const inner = this.#first(node);
      throw new MountError(`mount "${inner}" is inside mount "${path}"; mounts cannot nest`);
    }
    node.mount = mount;
    this.#size++;
    this.#mounts.push(node);
    this.#depth = Math.max(this.#depth, node.path.split("/").length);
    // At most one mount in four slots, so a probe ends at an empty slot within a step or two.
    if (this.#mounts.length * 4 > this.#table.length >> 1) {
      this.#table = new Int32Array(this.#table.length * 4);
      for (let m = 0; m < this.#mounts.length; m++) this.#place(m);
    } else {
      this.#place(this.#mounts.length - 1);
    }
  }

  /** Puts mount number `m` into the prefix table (linear probing). */
  #place(m: number): void {
    const t = this.#table;
    const mask = (t.length >> 1) - 1;
    const path = this.#mounts[m]!.path;
    const h = prefixHash(path, 0, path.length);
    let slot = (h ^ (h >>> 16)) & mask;
    while (t[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    t[2 * slot] = h;
    t[2 * slot + 1] = m + 1;
  }

  /**
   * Checks `key` (see {@link checkedKeyHash}; the hash is left in {@link MountRouter.lastHash}) and
   * returns the mount it falls under, as {@link MountRouter.mountOf} — in the same pass over the key:
   * each of its first prefixes is looked up by hash in a small table of mount paths, so nothing is
   * sliced and no trie node is visited.
   *
   * @example
   * ```ts
   * const r = new MountRouter<string>();
   * r.add("sim/fine", "fine");
   * r.route("/sim/fine/c/0", "ShardedStore"); // "fine"
   * ```
   */
  route(key: string, where: string): M | null {
    const p = this.#prefixes;
    this.lastHash = checkedKeyHash(key, where, p);
    if (this.#depth > RECORDED) return this.mountOf(key);
    const t = this.#table;
    const mask = (t.length >> 1) - 1;
    const count = Math.min(p[0]!, this.#depth);
    for (let d = 0; d < count; d++) {
      const end = p[1 + 2 * d]!;
      const h = p[2 + 2 * d]!;
      for (let slot = (h ^ (h >>> 16)) & mask; t[2 * slot + 1] !== 0; slot = (slot + 1) & mask) {
        if (t[2 * slot] !== h) continue;
        const node = this.#mounts[t[2 * slot + 1]! - 1]!;
        if (node.path.length === end - 1 && key.startsWith(node.path, 1)) return node.mount;
      }
    }
    return null;
  }

  #first(node: Node<M>): string {
    if (node.mount !== null) return node.path;
    for (const c of node.children?.values() ?? []) return this.#first(c); // any chain's head will do
    return node.path;
  }

  /**
   * The mount a key (`/a/b/c`) falls under, and the index in the key where the mount path ends
   * (the `/` that starts the inner key); `null` when no mount contains it. A key equal to a mount
   * path (no inner part) is not under it.
   */
  find(key: string): { mount: M; end: number } | null {
    const node = this.#walk(key);
    return node === null ? null : { mount: node.mount as M, end: node.path.length + 1 };
  }

  /**
   * The mount a key falls under (as {@link MountRouter.find}), without the position: what routing
   * needs, with nothing allocated.
   */
  mountOf(key: string): M | null {
    return this.#walk(key)?.mount ?? null;
  }

  /** The mount node a key lies below, or null. */
  #walk(key: string): Node<M> | null {
    let node = this.#root;
    let pos = 1;
    for (;;) {
      const slash = key.indexOf("/", pos);
      if (slash === -1) return null;
      const children = node.children;
      if (children === null) return null;
      let child = children.get(segmentHash(key, pos, slash)) ?? null;
      const len = slash - pos;
      while (child !== null && (child.seg.length !== len || !key.startsWith(child.seg, pos)))
        child = child.alt;
      if (child === null) return null;
      if (child.mount !== null) return child;
      node = child;
      pos = slash + 1;
    }
  }

  /**
   * Mounts relevant to a listing prefix (`/` or `/a/b/`): every mount below the prefix, or the one
   * mount containing it. Costs the prefix depth plus the number of mounts returned.
   */
  *within(prefix: string): Generator<{ path: string; mount: M }> {
    let node = this.#root;
    const segs = prefix.split("/").filter((s) => s !== "");
    for (const seg of segs) {
      if (node.mount !== null) break;
      let child = node.children?.get(segmentHash(seg, 0, seg.length)) ?? null;
      while (child !== null && child.seg !== seg) child = child.alt;
      if (child === null) return;
      node = child;
    }
    const stack: Node<M>[] = [node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.mount !== null) yield { path: n.path, mount: n.mount };
      else if (n.children !== null)
        for (const head of n.children.values())
          for (let c: Node<M> | null = head; c !== null; c = c.alt) stack.push(c);
    }
  }

  /** Every mount, in insertion-independent trie order. */
  all(): Generator<{ path: string; mount: M }> {
    return this.within("/");
  }
}
