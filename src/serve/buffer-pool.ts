/**
 * Reusable read buffers for response bodies, by power-of-two size class: a server reading the same
 * chunk sizes over and over allocates (and garbage-collects) none after the first few. A buffer goes
 * back only once its response has been flushed; at most `perClass` are kept in each class.
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
  readonly #perClass: number;

  constructor(maxLength: number, perClass = 8) {
    this.maxLength = maxLength;
    this.#perClass = perClass;
  }

  static #sizeClass(length: number): number {
    return Math.max(4096, 2 ** Math.ceil(Math.log2(Math.max(1, length))));
  }

  /** A buffer of at least `length` bytes (uninitialised). */
  take(length: number): Buffer {
    if (length > this.maxLength) return Buffer.allocUnsafe(length);
    const size = BufferPool.#sizeClass(length);
    return this.#free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  }

  /** Returns a buffer from {@link take} that nothing refers to any more. */
  give(buf: Buffer): void {
    const size = buf.buffer.byteLength;
    if (size > BufferPool.#sizeClass(this.maxLength) || size !== BufferPool.#sizeClass(size)) return;
    const list = this.#free.get(size);
    if (list === undefined) this.#free.set(size, [buf]);
    else if (list.length < this.#perClass) list.push(buf);
  }
}
