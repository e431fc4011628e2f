/**
 * What {@link eachLimit} walks: an array, or a list that makes its items when asked (`ShardVisits`).
 *
 * @example
 * ```ts
 * const items: Sequence<number> = [1, 2, 3];
 * ```
 */
export interface Sequence<T> {
  readonly length: number;
  at(index: number): T | undefined;
}

/**
 * Calls `fn` on every item with at most `limit` calls running at once. After the first failure no
 * new call starts; it rejects with that failure once every started call has settled.
 *
 * @example
 * ```ts
 * await eachLimit(["a.zarr", "b.zarr", "c.zarr"], 2, async (name) => console.log(name));
 * ```
 */
export async function eachLimit<T>(
  items: Sequence<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        await fn(items.at(i) as T, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
}
