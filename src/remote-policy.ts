/**
 * How a remote store (FetchStore, S3Store, ZipStore over a URL) talks to its server: a timeout per
 * attempt, bounded retries of transient failures, and a cap on requests in flight. None of these
 * is a secret, so configs carry them.
 *
 * @example
 * ```ts
 * const opts: RemoteOptions = { timeout: 10_000, retries: 2, concurrency: 8 };
 * ```
 */
export interface RemoteOptions {
  /** Milliseconds one attempt may take, body included (default 30 000). */
  timeout?: number;
  /** Further attempts after a transient failure (5xx, 429, reset, short body, timeout); default 3. */
  retries?: number;
  /** Requests in flight at once per store; more wait their turn (default 16). */
  concurrency?: number;
}

/** The defaults of {@link RemoteOptions}. */
export const REMOTE_DEFAULTS = { timeout: 30_000, retries: 3, concurrency: 16 } as const;

/**
 * A failure worth another attempt (5xx, 429, a reset or short body, a timeout).
 *
 * @example
 * ```ts
 * throw new TransientError("HTTP 503 Service Unavailable");
 * ```
 */
export class TransientError extends Error {
  override name = "TransientError";
}

/** Milliseconds before retry `attempt` (1, 2, …): exponential, capped, with full jitter. */
export function backoffDelay(attempt: number, base = 50, cap = 2_000): number {
  return Math.random() * Math.min(cap, base * 2 ** attempt);
}

/** Whether an error from `fetch` (or a body read) is a network failure: reset, refused, cut short. */
function isNetworkError(e: unknown): boolean {
  if (e instanceof TypeError) return true; // fetch's "fetch failed" / "terminated"
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|UND_ERR_)/.test(code);
}

/** `signal` (the caller's) and a timeout of `ms`, as one signal; `timedOut()` tells which fired. */
function attemptSignal(ms: number, signal: AbortSignal | undefined) {
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new TransientError(`no complete answer within ${ms} ms (timeout)`));
  }, ms);
  const onAbort = () => ac.abort(signal?.reason);
  if (signal?.aborted) ac.abort(signal.reason);
  else signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: ac.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function positiveInt(name: string, v: number | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < min) {
    throw new TypeError(`${name} must be an integer ≥ ${min}, got ${String(v)}`);
  }
  return v;
}

/**
 * Runs a store's requests under its {@link RemoteOptions}: at most `concurrency` at once, each
 * attempt under its own timeout (combined with the caller's signal), transient failures retried up
 * to `retries` times with exponential backoff and jitter. A caller's abort is passed through as is.
 *
 * @example
 * ```ts
 * const policy = new RemotePolicy({ retries: 2 }, "FetchStore(http://x)");
 * const bytes = await policy.run((signal) => fetch(url, { signal }).then((r) => r.arrayBuffer()));
 * ```
 */
export class RemotePolicy {
  readonly timeout: number;
  readonly retries: number;
  readonly concurrency: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(options: RemoteOptions = {}, where = "remote store") {
    this.timeout = positiveInt(`${where}: timeout`, options.timeout, REMOTE_DEFAULTS.timeout, 1);
    this.retries = positiveInt(`${where}: retries`, options.retries, REMOTE_DEFAULTS.retries, 0);
    this.concurrency = positiveInt(
      `${where}: concurrency`,
      options.concurrency,
      REMOTE_DEFAULTS.concurrency,
      1,
    );
  }

  /** The options that differ from the defaults (what a config needs to carry). */
  changed(): RemoteOptions {
    const out: RemoteOptions = {};
    if (this.timeout !== REMOTE_DEFAULTS.timeout) out.timeout = this.timeout;
    if (this.retries !== REMOTE_DEFAULTS.retries) out.retries = this.retries;
    if (this.concurrency !== REMOTE_DEFAULTS.concurrency) out.concurrency = this.concurrency;
    return out;
  }

  async #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.#active < this.concurrency) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(go);
        if (i !== -1) this.#waiting.splice(i, 1);
        reject(signal?.reason);
      };
      this.#waiting.push(go);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next)
      next(); // the slot passes straight to the next waiter
    else this.#active--;
  }

  /**
   * Calls `attempt` until it succeeds, fails for good, or the retries are spent. An attempt signals
   * a retryable failure by throwing {@link TransientError}; network errors and timeouts count too.
   * The last failure is thrown, its message saying how many attempts were made.
   */
  async run<T>(attempt: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let i = 0; ; i++) {
      if (signal?.aborted) throw signal.reason;
      await this.#acquire(signal);
      const a = attemptSignal(this.timeout, signal);
      try {
        return await attempt(a.signal);
      } catch (e) {
        if (signal?.aborted) throw signal.reason ?? e;
        const err = a.timedOut() ? (a.signal.reason as Error) : e;
        const transient = a.timedOut() || err instanceof TransientError || isNetworkError(err);
        if (!transient) throw err;
        if (i >= this.retries) {
          const why = err instanceof Error ? err.message : String(err);
          const cause = (err as { cause?: unknown }).cause;
          const detail = cause instanceof Error && !why.includes(cause.message) ? ` (${cause.message})` : "";
          throw new Error(`${why}${detail}; gave up after ${i + 1} attempt${i === 0 ? "" : "s"}`, {
            cause: err,
          });
        }
      } finally {
        a.done();
        this.#release();
      }
      await sleep(backoffDelay(i + 1), signal);
    }
  }
}
