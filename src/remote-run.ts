// The request loop of a RemotePolicy (remote-policy.ts), loaded with a remote store's first
// request: the cap on requests in flight, a timeout per attempt, retries with backoff and jitter.
import { type RemotePolicy, type Slots, TransientError } from "./remote-policy.js";

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

async function acquire(p: RemotePolicy, slots: Slots, signal: AbortSignal | undefined): Promise<void> {
  if (slots.active < p.concurrency) {
    slots.active++;
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const go = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      const i = slots.waiting.indexOf(go);
      if (i !== -1) slots.waiting.splice(i, 1);
      reject(signal?.reason);
    };
    slots.waiting.push(go);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function release(slots: Slots): void {
  const next = slots.waiting.shift();
  if (next)
    next(); // the slot passes straight to the next waiter
  else slots.active--;
}

/**
 * Runs `attempt` under `p`'s options (see `RemotePolicy.run`): at most `concurrency` at once (the
 * `slots`), each attempt under its own timeout combined with the caller's signal, transient failures
 * retried up to `retries` times with exponential backoff and jitter.
 *
 * @example
 * ```ts
 * const bytes = await runUnder(policy, slots, (signal) => fetch(url, { signal }).then((r) => r.arrayBuffer()));
 * ```
 */
export async function runUnder<T>(
  p: RemotePolicy,
  slots: Slots,
  attempt: (signal: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  for (let i = 0; ; i++) {
    if (signal?.aborted) throw signal.reason;
    await acquire(p, slots, signal);
    const a = attemptSignal(p.timeout, signal);
    try {
      return await attempt(a.signal);
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      const err = a.timedOut() ? (a.signal.reason as Error) : e;
      const transient = a.timedOut() || err instanceof TransientError || isNetworkError(err);
      if (!transient) throw err;
      if (i >= p.retries) {
        const why = err instanceof Error ? err.message : String(err);
        const cause = (err as { cause?: unknown }).cause;
        const detail = cause instanceof Error && !why.includes(cause.message) ? ` (${cause.message})` : "";
        throw new Error(`${why}${detail}; gave up after ${i + 1} attempt${i === 0 ? "" : "s"}`, {
          cause: err,
        });
      }
    } finally {
      a.done();
      release(slots);
    }
    await sleep(backoffDelay(i + 1), signal);
  }
}
