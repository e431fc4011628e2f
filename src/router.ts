import { MountError } from "./errors.js";

interface Node<M> {
  children: Map<string, Node<M>> | null;
  mount: M | null;
  path: string;
  /** Position in the flat table of edges `find` uses. */
  id: number;
}

const SEED = 0x811c9dc5 | 0;
const PRIME = 0x01000193;

/** FNV-1a of `key` from `from` to the next `/` (or the end); no slice, no string made. */
function segmentHash(key: string, from: number, to: number): number {
  let h = SEED;
  for (let i = from; i < to; i++) h = Math.imul(h ^ key.charCodeAt(i), PRIME);
  return h;
}

/**
 * A trie of mount paths by segment. `find` walks a key once, segment by segment, so routing costs
 * the key's depth — never the number of mounts — and uses no regular expressions. The walk hashes
 * each segment in place and looks it up in one open-addressed table of (parent, segment hash) →
 * child, confirming the segment's text; it makes no strings and does no `Map` lookups.
 *
 * @example
 * ```ts
 * const r = new MountRouter<string>();
 * r.add("simulation/fine", "fine");
 * r.find("/simulation/fine/foo/.zarray"); // { mount: "fine", end: 16 }
 * ```
 */
export class MountRouter<M> {
  readonly #root: Node<M> = { children: null, mount: null, path: "", id: 0 };
  #size = 0;
  /** Every node by id (the root is 0), with its last segment. */
  readonly #nodes: Node<M>[] = [this.#root];
  readonly #segs: string[] = [""];
  /** By node id: parent id, last segment's hash, and 1 when it has children (a walk stops otherwise). */
  #parents = new Int32Array(8);
  #hashes = new Int32Array(8);
  #inner = new Uint8Array(8);
  /** Open-addressed edges: node id + 1 at the slot of (parent, segment hash); 0 = empty. */
  #slots = new Int32Array(16);

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
        child = { children: null, mount: null, path: node.path === "" ? seg : `${node.path}/${seg}`, id: 0 };
        node.children.set(seg, child);
        this.#link(node, child, seg);
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
  }

  /** Gives `child` an id and puts its edge into the table (grown to stay at most half full). */
  #link(parent: Node<M>, child: Node<M>, seg: string): void {
    const id = this.#nodes.length;
    child.id = id;
    this.#nodes.push(child);
    this.#segs.push(seg);
    if (id >= this.#parents.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, b: T) => {
        b.set(a);
        return b;
      };
      this.#parents = grow(this.#parents, new Int32Array(id * 2));
      this.#hashes = grow(this.#hashes, new Int32Array(id * 2));
      this.#inner = grow(this.#inner, new Uint8Array(id * 2));
    }
    this.#parents[id] = parent.id;
    this.#hashes[id] = segmentHash(seg, 0, seg.length);
    this.#inner[parent.id] = 1;
    if (this.#nodes.length * 2 > this.#slots.length) {
      this.#slots = new Int32Array(this.#slots.length * 2);
      for (let i = 1; i < id; i++) this.#place(i);
    }
    this.#place(id);
  }

  #slot(parent: number, hash: number): number {
    return (hash ^ Math.imul(parent + 1, 0x9e3779b1)) & (this.#slots.length - 1);
  }

  #place(id: number): void {
    const mask = this.#slots.length - 1;
    let slot = this.#slot(this.#parents[id]!, this.#hashes[id]!);
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = id + 1;
  }

  #first(node: Node<M>): string {
    if (node.mount !== null) return node.path;
    for (const c of node.children?.values() ?? []) return this.#first(c);
    return node.path;
  }

  /** The id of the mount node a key falls under, or -1. */
  #walk(key: string): number {
    const slots = this.#slots;
    const mask = slots.length - 1;
    const n = key.length;
    let parent = 0;
    let pos = 1;
    while (this.#inner[parent] === 1) {
      let h = SEED;
      let end = pos;
      for (; end < n; end++) {
        const c = key.charCodeAt(end);
        if (c === 47) break;
        h = Math.imul(h ^ c, PRIME);
      }
      // The last segment is never under a mount: a key equal to a mount path is not inside it.
      if (end >= n) return -1;
      let slot = (h ^ Math.imul(parent + 1, 0x9e3779b1)) & mask;
      let child = -1;
      for (let id = slots[slot]!; id !== 0; id = slots[slot]!) {
        if (this.#hashes[id - 1] === h && this.#parents[id - 1] === parent) {
          const seg = this.#segs[id - 1]!;
          if (seg.length === end - pos && key.startsWith(seg, pos)) {
            child = id - 1;
            break;
          }
        }
        slot = (slot + 1) & mask;
      }
      if (child === -1) return -1;
      if (this.#nodes[child]!.mount !== null) return child;
      parent = child;
      pos = end + 1;
    }
    return -1;
  }

  /**
   * The mount a key (`/a/b/c`) falls under, or `null` (see {@link find}); its inner key starts at
   * the mount path's length + 1.
   */
  mountOf(key: string): M | null {
    const id = this.#walk(key);
    return id === -1 ? null : this.#nodes[id]!.mount;
  }

  /**
   * The mount a key (`/a/b/c`) falls under, and the index in the key where the mount path ends
   * (the `/` that starts the inner key); `null` when no mount contains it. A key equal to a mount
   * path (no inner part) is not under it.
   */
  find(key: string): { mount: M; end: number } | null {
    const id = this.#walk(key);
    if (id === -1) return null;
    const node = this.#nodes[id]!;
    return { mount: node.mount!, end: node.path.length + 1 };
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
