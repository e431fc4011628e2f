import type { AbsolutePath, Store } from "../node.js";
import { isMetadataKey } from "./hierarchy.js";

/**
 * Copies `keys` from one store to another: metadata documents first (so a composition learns each
 * sharded array's layout before its chunks arrive), then everything else, `concurrency` at a time.
 *
 * @example
 * ```ts
 * const { bytes } = await copyKeys(source, target, keys, { concurrency: 8, onKey: () => bar.increment() });
 * ```
 */
export async function copyKeys(
  from: Store,
  to: Store,
  keys: readonly AbsolutePath[],
  options: { concurrency?: number; onKey?: () => void } = {},
): Promise<{ keys: number; bytes: number }> {
  const set = to.set?.bind(to);
  if (set === undefined) throw new Error(`${String(to)} cannot be written`);
  let bytes = 0;
  let copied = 0;
  const run = async (batch: readonly AbsolutePath[]) => {
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const key = batch[next++]!;
        const value = await from.get(key);
        if (value !== undefined) {
          await set(key, value);
          bytes += value.byteLength;
          copied++;
        }
        options.onKey?.();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  };
  await run(keys.filter(isMetadataKey));
  await run(keys.filter((k) => !isMetadataKey(k)));
  return { keys: copied, bytes };
}
