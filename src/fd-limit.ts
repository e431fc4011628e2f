/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in FIFO order.
 *
 * @example
 * ```ts
 * const files = new Limiter(64);
 * const text = await files.run(() => readFile("a.txt", "utf8"));
 * ```
 */
export class Limiter {
  #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #head = 0;

  constructor(limit: number) {
    this.#limit = Limiter.#check(limit);
  }

  static #check(limit: number): number {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    return limit;
  }

  /** The most holders at once. Raising it lets waiting callers in at once. */
  get limit(): number {
    return this.#limit;
  }
  set limit(n: number) {
    this.#limit = Limiter.#check(n);
    while (this.#active < this.#limit && this.#head < this.#waiting.length) {
      this.#active++;
      this.#next();
    }
  }

  /** Holders right now. */
  get active(): number {
    return this.#active;
  }

  /** Runs `fn` once a slot is free; the slot is released when its promise settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await fn();
    } finally {
      if (this.#head < this.#waiting.length) this.#next();
      else this.#active--;
    }
  }

  // Hands the caller's slot to the oldest waiter (the count stays the same).
  #next(): void {
    const wake = this.#waiting[this.#head++] as () => void;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#head);
      this.#head = 0;
    }
    wake();
  }
}
