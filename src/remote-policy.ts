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

/** Requests in flight under one policy, and those waiting for a slot. */
export interface Slots {
  active: number;
  waiting: (() => void)[];
}

let runner: Promise<typeof import("./remote-run.js")> | undefined;

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
  readonly #slots: Slots = { active: 0, waiting: [] };

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

  /**
   * Calls `attempt` until it succeeds, fails for good, or the retries are spent. An attempt signals
   * a retryable failure by throwing {@link TransientError}; network errors and timeouts count too.
   * The last failure is thrown, its message saying how many attempts were made. (The loop,
   * remote-run.ts, loads with the first request.)
   */
  async run<T>(attempt: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    runner ??= import("./remote-run.js").catch((e: unknown) => {
      runner = undefined; // a chunk that failed to load is fetched again on the next request
      throw e;
    });
    return (await runner).runUnder(this, this.#slots, attempt, signal);
  }
}
