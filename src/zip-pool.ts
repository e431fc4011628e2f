// A bounded pool of open zip files shared by every file-backed ZipStore in the process: a store
// holds a descriptor only while a read runs; idle ones are closed least recently used first.
// Descriptors are plain numbers used with the callback API (no FileHandle: measured at 10^5
// archives, a FileHandle's open + stat + read + close costs ~45% more CPU than the same calls on a
// number), or with the synchronous calls in `blocking` mode.
import { close, closeSync, fstat, fstatSync, open, openSync, type Stats } from "node:fs";
import { promisify } from "node:util";

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);

/**
 * What a {@link ZipFilePool} holds now.
 *
 * @example
 * ```ts
 * const { open, maxOpen } = zipFilePool.stats();
 * ```
 */
export interface ZipFilePoolStats {
  /** Descriptors open (or being opened) now. */
  open: number;
  /** Archives with a read running now. */
  inUse: number;
  /** Reads waiting for a descriptor. */
  waiting: number;
  maxOpen: number;
  /** Opens so far (reopens after eviction included). */
  opens: number;
  /** Descriptors closed to make room so far. */
  evictions: number;
}

/**
 * One archive's place in a pool (one per store).
 *
 * @example
 * ```ts
 * const slot = new PoolSlot("/data/a.zip", () => console.log("replaced"));
 * ```
 */
export class PoolSlot {
  /** The descriptor being opened or open. */
  fh: Promise<number> | null = null;
  /** The open descriptor once `fh` has resolved: reads then skip the asynchronous path. */
  handle: number | null = null;
  users = 0;
  /** Whether the file's dev/ino/size/mtime were recorded (at its first open): a reopen must find the same file. */
  identity = false;
  /** Kept as numbers in the slot, not as a string per archive (~56 B each). */
  dev = 0;
  ino = 0;
  mtimeMs = 0;
  /** The file's size when last opened. */
  size = 0;
  dropWhenIdle = false;
  constructor(
    readonly file: string,
    /** Called when a reopen finds another file under the name (the archive was replaced). */
    readonly onReplaced: () => void,
    /**
     * Called when an archive the pool closed to make room (not one its store closed) leaves the
     * pool's window of recently evicted archives: the store lets go of what it keeps about it.
     */
    readonly onEvicted: () => void = () => {},
  ) {}
}

const DEFAULT_MAX_OPEN = 128;
/** How many times `maxOpen` evicted archives keep their stores' indexes (see `ZipFilePool`). */
const EVICTED_KEPT = 4;

function checkMax(n: number): number {
  if (!Number.isInteger(n) || n < 1)
    throw new TypeError(`ZipFilePool: maxOpen must be a whole number ≥ 1, got ${JSON.stringify(n)}`);
  return n;
}

/**
 * A pool of open zip archives with least-recently-used eviction. File-backed `ZipStore`s read
 * through {@link zipFilePool} (default 128 descriptors for the whole process) unless given their
 * own `pool`; a store reopens its archive transparently after eviction, and refuses to read a
 * different file that replaced it under the same name (its directory is read again next time).
 * The stores of the last 4 × `maxOpen` archives evicted keep their indexes (reads spread over more
 * archives than the pool holds do not reread directories); older evicted ones keep nothing.
 *
 * @example
 * ```ts
 * import { ZipFilePool, ZipStore } from "shardedstore/node";
 * const pool = new ZipFilePool({ maxOpen: 16 });
 * const zip = new ZipStore("data.zarr.zip", { pool });
 * ```
 */
export class ZipFilePool {
  #maxOpen: number;
  #blocking: boolean;
  #open = 0;
  /** Descriptors being closed (still counted in #open). */
  #closing = 0;
  #opens = 0;
  #evictions = 0;
  /** Open slots nobody is reading, least recently used first. */
  readonly #idle = new Set<PoolSlot>();
  readonly #inUse = new Set<PoolSlot>();
  /** Reads waiting for room, each with the archive it waits to open. */
  #waiters: Array<{ slot: PoolSlot; wake: () => void }> = [];
  /**
   * Archives closed to make room, least recently first: the last EVICTED_KEPT × maxOpen keep what
   * their stores know of them (a composition read by more archives at once than the pool holds does
   * not reread a directory per read); older ones are forgotten (`onEvicted`).
   */
  readonly #evicted = new Set<PoolSlot>();

  constructor(options: { maxOpen?: number; blocking?: boolean } = {}) {
    this.#maxOpen = checkMax(options.maxOpen ?? DEFAULT_MAX_OPEN);
    this.#blocking = options.blocking === true;
  }

  /**
   * Open, stat and close archives, and read their end records, with synchronous calls (default
   * `false`). On a local disk this costs 3–5× less CPU per archive (no thread-pool round trips),
   * which is what listing 10^5 archives is made of; but each call blocks the event loop, so leave
   * it off in a server or on a file system with slow metadata operations (NFS, FUSE). The
   * `shardedstore` command line turns it on. Reads of entry data stay asynchronous.
   */
  get blocking(): boolean {
    return this.#blocking;
  }
  set blocking(on: boolean) {
    this.#blocking = on === true;
  }

  /** The most descriptors open at once; lowering it closes idle ones now. */
  get maxOpen(): number {
    return this.#maxOpen;
  }
  set maxOpen(n: number) {
    this.#maxOpen = checkMax(n);
    this.#trim();
  }

  stats(): ZipFilePoolStats {
    return {
      open: this.#open,
      inUse: this.#inUse.size,
      waiting: this.#waiters.length,
      maxOpen: this.#maxOpen,
      opens: this.#opens,
      evictions: this.#evictions,
    };
  }

  /** Runs `fn` with the slot's archive open, opening it (and making room) as needed. */
  use<T>(slot: PoolSlot, fn: (fd: number) => Promise<T>): Promise<T> {
    const handle = slot.handle;
    if (handle === null) return this.#use(slot, fn);
    // Already open: no await before the read.
    slot.users++;
    this.#idle.delete(slot);
    this.#inUse.add(slot);
    let p: Promise<T>;
    try {
      p = fn(handle);
    } catch (e) {
      this.#release(slot);
      return Promise.reject(e);
    }
    return p.finally(() => this.#release(slot));
  }

  async #use<T>(slot: PoolSlot, fn: (fd: number) => Promise<T>): Promise<T> {
    const fh = await this.#acquire(slot);
    try {
      return await fn(fh);
    } finally {
      this.#release(slot);
    }
  }

  /** Closes the slot's descriptor (now, or when its last read ends) and forgets its file. */
  async drop(slot: PoolSlot): Promise<void> {
    slot.identity = false;
    this.#evicted.delete(slot);
    if (slot.users > 0) {
      slot.dropWhenIdle = true;
      return;
    }
    await this.#close(slot, false);
  }

  async #acquire(slot: PoolSlot): Promise<number> {
    slot.users++;
    this.#idle.delete(slot);
    this.#inUse.add(slot);
    try {
      for (;;) {
        let p = slot.fh;
        while (p === null) {
          if (this.#open < this.#maxOpen) {
            p = this.#openSlot(slot);
            break;
          }
          await this.#makeRoom(slot);
          p = slot.fh;
        }
        try {
          return await p;
        } catch (e) {
          // The process ran out of descriptors (a low `ulimit -n`): wait for one of ours instead of failing.
          const code = (e as { code?: string }).code;
          if ((code !== "EMFILE" && code !== "ENFILE") || this.#open === 0) throw e;
          await this.#makeRoom(slot);
        }
      }
    } catch (e) {
      this.#release(slot);
      throw e;
    }
  }

  /**
   * Closes the least recently used idle descriptor, or waits until one is released — or until
   * another read opens `slot` itself (two reads of one archive wait apart; the one that gets room
   * opens it for both, else the other would hold the archive open while waiting for room forever).
   */
  async #makeRoom(slot: PoolSlot): Promise<void> {
    const victim = this.#idle.values().next().value;
    if (victim !== undefined) await this.#close(victim, true);
    else await new Promise<void>((wake) => this.#waiters.push({ slot, wake }));
  }

  /** Checks that a reopened archive is the file first opened, and records its size. */
  #admit(slot: PoolSlot, st: Stats): void {
    const same =
      st.dev === slot.dev && st.ino === slot.ino && st.size === slot.size && st.mtimeMs === slot.mtimeMs;
    if (slot.identity && !same) {
      slot.identity = false;
      slot.onReplaced();
      throw new Error("the archive was replaced since its directory was read (it is read again next time)");
    }
    slot.identity = true;
    slot.dev = st.dev;
    slot.ino = st.ino;
    slot.mtimeMs = st.mtimeMs;
    slot.size = st.size;
  }

  /** Opens the slot's archive; the promise of its descriptor (the slot's `fh` unless opening failed). */
  #openSlot(slot: PoolSlot): Promise<number> {
    this.#evicted.delete(slot); // in use again: it keeps what its store knows
    this.#open++;
    this.#opens++;
    let p: Promise<number>;
    if (this.#blocking) {
      let fd: number | null = null;
      try {
        fd = openSync(slot.file, "r");
        this.#admit(slot, fstatSync(fd));
        slot.handle = fd;
        p = Promise.resolve(fd);
        slot.fh = p;
      } catch (e) {
        if (fd !== null) closeQuietly(fd);
        this.#open--;
        this.#wake();
        return Promise.reject(e);
      }
    } else {
      let opening: Promise<number> | null = null;
      opening = (async () => {
        let fd: number | null = null;
        try {
          fd = await openAsync(slot.file, "r");
          this.#admit(slot, await fstatAsync(fd));
          if (slot.fh === opening) slot.handle = fd;
          return fd;
        } catch (e) {
          if (fd !== null) await closeAsync(fd).catch(() => {});
          if (slot.fh === opening) slot.fh = null;
          this.#open--;
          this.#wake();
          throw e;
        }
      })();
      p = opening;
      slot.fh = opening;
    }
    // Reads of this archive that were waiting for room need none now.
    if (this.#waiters.some((w) => w.slot === slot)) {
      const mine = this.#waiters.filter((w) => w.slot === slot);
      this.#waiters = this.#waiters.filter((w) => w.slot !== slot);
      for (const w of mine) w.wake();
    }
    return p;
  }

  #release(slot: PoolSlot): void {
    slot.users--;
    if (slot.users > 0) return;
    this.#inUse.delete(slot);
    if (slot.fh === null) return;
    if (slot.dropWhenIdle) {
      slot.dropWhenIdle = false;
      void this.#close(slot, false);
    } else if (this.#waiters.length > 0) void this.#close(slot, true);
    else {
      this.#idle.add(slot);
      this.#trim();
    }
  }

  async #close(slot: PoolSlot, evicted: boolean): Promise<void> {
    const p = slot.fh;
    if (p === null) return;
    slot.fh = null;
    slot.handle = null;
    this.#idle.delete(slot);
    if (evicted) {
      this.#evictions++;
      this.#evicted.add(slot);
      for (const old of this.#evicted) {
        if (this.#evicted.size <= EVICTED_KEPT * this.#maxOpen) break;
        this.#evicted.delete(old);
        old.onEvicted();
      }
    } else this.#evicted.delete(slot);
    this.#closing++;
    try {
      const fd = await p.catch(() => null);
      if (fd !== null) {
        if (this.#blocking) closeSync(fd);
        else await closeAsync(fd);
      }
    } catch {
      // closing a read-only descriptor cannot lose data
    } finally {
      this.#closing--;
      this.#open--;
      this.#wake();
    }
  }

  #trim(): void {
    while (this.#open - this.#closing > this.#maxOpen) {
      const victim = this.#idle.values().next().value;
      if (victim === undefined) return;
      void this.#close(victim, true);
    }
  }

  #wake(): void {
    this.#waiters.shift()?.wake();
  }
}

/**
 * The pool every file-backed `ZipStore` uses unless given its own: at most 128 descriptors for the
 * whole process (set `zipFilePool.maxOpen` to change it).
 *
 * @example
 * ```ts
 * import { zipFilePool } from "shardedstore/node";
 * zipFilePool.maxOpen = 64;
 * console.log(zipFilePool.stats().open);
 * ```
 */
export const zipFilePool: ZipFilePool = new ZipFilePool();

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closing a read-only descriptor cannot lose data
  }
}
