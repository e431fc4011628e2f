/**
 * Runs at most `n` tasks at once; the others wait their turn in order (a finishing task hands its
 * slot straight to the next one).
 *
 * @example
 * ```ts
 * const limit = limiter(8);
 * const value = await limit(() => store.get("/zarr.json"));
 * ```
 */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next !== undefined) next();
      else active--;
    }
  };
}
