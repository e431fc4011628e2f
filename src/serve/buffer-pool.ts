/**
 * Reusable read buffers for response bodies, by power-of-two size class: a server reading the same
 * chunk sizes over and over allocates (and garbage-collects) none after the first few. A buffer goes
 * back only once its response has been flushed; at most `keepBytes` are kept, in all classes together.
 *
 * @example
 * ```ts
 * const pool = new BufferPool(1 << 20);
 * const buf = pool.take(262144); // buf.byteLength >= 262144
 * pool.give(buf);
 * ```
 */
export class BufferPool {
  readonly #free = new Map<number, Buffer[]>();
  /** The largest length served from the pool; longer buffers are allocated each time. */
  readonly maxLength: number;
  readonly #keepBytes: number;
  #kept = 0;

  constructor(maxLength: number, keepBytes = 32 << 20) {
    this.maxLength = maxLength;
    this.#keepBytes = keepBytes;
  }

  static #sizeClass(length: number): number {
    return length <= 4096 ? 4096 : 2 ** (32 - Math.clz32(length - 1));
  }

  /** A buffer of at least `length` bytes (uninitialised). */
  take(length: number): Buffer {
    if (length > this.maxLength) return Buffer.allocUnsafe(length);
    const size = BufferPool.#sizeClass(length);
    const buf = this.#free.get(size)?.pop();
    if (buf === undefined) return Buffer.allocUnsafeSlow(size);
    this.#kept -= size;
    return buf;
  }

  /** Returns a buffer from {@link take} that nothing refers to any more. */
  give(buf: Buffer): void {
    const size = buf.buffer.byteLength;
    if (size > BufferPool.#sizeClass(this.maxLength) || size !== BufferPool.#sizeClass(size)) return;
    if (this.#kept + size > this.#keepBytes) return;
    this.#kept += size;
    const list = this.#free.get(size);
    if (list === undefined) this.#free.set(size, [buf]);
    else list.push(buf);
  }
}
