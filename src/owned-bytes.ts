/**
 * Returns a `Uint8Array` that spans exactly its own buffer: `bytes` itself when it already does, else
 * a copy. zarrita 0.7.5's `bytes` codec encodes `data.buffer` whole, so a value that is a view into a
 * larger buffer (a pooled Node `Buffer`, a slice of a bigger read) would write the bytes around it too.
 *
 * @example
 * ```ts
 * const pooled = Buffer.from("abc"); // a view into Node's shared 8 KiB pool
 * ownedBytes(pooled).buffer.byteLength; // 3
 * ```
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer);
  }
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}
