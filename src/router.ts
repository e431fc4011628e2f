import { MountError } from "./errors.js";
import { checkedKeyHash, prefixHash } from "./keys.js";

/** Prefixes of a key recorded for the prefix table; mounts deeper than this use the trie walk. */
const RECORDED = 8;

interface Node<M> {
  children: Map<string, Node<M>> | null;
  mount: M | null;
  path: string;
}

/**
 * A trie of mount paths by segment. `find` walks a key once, segment by segment, so routing costs
 * the key's depth — never the number of mounts — and uses no regular expressions. `route` finds the
 * mount in the pass that checks the key, through a hash table of the mount paths.
 *
 * @example
 * ```ts
 * const r = new MountRouter<string>();
 * r.add("simulation/fine", "fine");
 * r.find("/simulation/fine/foo/.zarray"); // { mount: "fine", end: 16 }
 * ```
 */
export class MountRouter<M> {
  readonly #root: Node<M> = { children: null, mount: null, path: "" };
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
      let child = node.children.get(seg);
      if (child === undefined) {
        child = { children: null, mount: null, path: node.path === "" ? seg : `${node.path}/${seg}` };
        node.children.set(seg, child);
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
    const mounts = this.#mounts;
    mounts.push(node);
    this.#depth = Math.max(this.#depth, path.split("/").length);
    // At most one mount in four slots, so a probe ends at an empty slot within a step or two.
    const grow = mounts.length * 8 > this.#table.length;
    if (grow) this.#table = new Int32Array(this.#table.length * 4);
    for (let m = grow ? 0 : mounts.length - 1; m < mounts.length; m++) {
      const t = this.#table;
      const p = mounts[m]!.path;
      const h = prefixHash(p, 0, p.length);
      let slot = this.#slot(h);
      while (t[slot + 1] !== 0) slot = (slot + 2) & (t.length - 1);
      t[slot] = h;
      t[slot + 1] = m + 1;
    }
  }

  /** Where a hash's probe starts in the prefix table (an even index). */
  #slot(h: number): number {
    return ((h ^ (h >>> 16)) << 1) & (this.#table.length - 1);
  }

  /**
   * Checks `key` (see {@link checkedKeyHash}; the hash is left in {@link MountRouter.lastHash}) and
   * returns the mount it falls under, as {@link MountRouter.find} — in the same pass over the key:
   * each of its first prefixes is looked up by hash in a small table of mount paths (and compared
   * by text), so nothing is sliced and no trie node is visited.
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
    if (this.#depth > RECORDED) return this.find(key)?.mount ?? null;
    const t = this.#table;
    for (let d = 0; d < p[0]! && d < this.#depth; d++) {
      const h = p[2 + 2 * d]!;
      for (let slot = this.#slot(h); t[slot + 1] !== 0; slot = (slot + 2) & (t.length - 1)) {
        const node = this.#mounts[t[slot + 1]! - 1]!;
        if (t[slot] === h && node.path.length === p[1 + 2 * d]! - 1 && key.startsWith(node.path, 1))
          return node.mount;
      }
    }
    return null;
  }

  #first(node: Node<M>): string {
    if (node.mount !== null) return node.path;
    for (const c of node.children?.values() ?? []) return this.#first(c);
    return node.path;
  }

  /**
   * The mount a key (`/a/b/c`) falls under, and the index in the key where the mount path ends
   * (the `/` that starts the inner key); `null` when no mount contains it. A key equal to a mount
   * path (no inner part) is not under it.
   */
  find(key: string): { mount: M; end: number } | null {
    let node = this.#root;
    let pos = 1;
    for (;;) {
      const slash = key.indexOf("/", pos);
      if (slash === -1) return null;
      const children = node.children;
      if (children === null) return null;
      const child = children.get(key.slice(pos, slash));
      if (child === undefined) return null;
      if (child.mount !== null) return { mount: child.mount, end: slash };
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
      const child = node.children?.get(seg);
      if (child === undefined) return;
      node = child;
    }
    const stack: Node<M>[] = [node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.mount !== null) yield { path: n.path, mount: n.mount };
      else if (n.children !== null) for (const c of n.children.values()) stack.push(c);
    }
  }

  /** Every mount, in insertion-independent trie order. */
  all(): Generator<{ path: string; mount: M }> {
    return this.within("/");
  }
}
