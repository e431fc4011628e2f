// Every key of a store with its bytes: what two stores compared key by key must both hold.
import type { AbsolutePath, Store } from "../../src/types.js";

/** Every key of a listable store with its bytes (hex), sorted by key. */
export async function storeContents(store: Store): Promise<Array<[string, string]>> {
  const keys: AbsolutePath[] = [];
  for await (const k of store.list!()) keys.push(k);
  keys.sort();
  const out: Array<[string, string]> = [];
  for (const k of keys) out.push([k, Buffer.from((await store.get(k)) ?? new Uint8Array()).toString("hex")]);
  return out;
}
