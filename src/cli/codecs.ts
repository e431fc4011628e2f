import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import * as zarr from "zarrita";
import { ownedBytes } from "../node.js";

type Transform = (bytes: Uint8Array, opts?: { level?: number }) => Uint8Array;

/**
 * zarrita's `gzip` and `zlib` codecs decode only; these also encode, with Node's zlib. Both ways
 * return arrays that own exactly their bytes: zlib's output can be a view into a pooled buffer, and
 * zarrita's `bytes` codec would re-encode that whole buffer on a read-modify-write.
 */
function nodeCodec(compress: Transform, decompress: Transform) {
  return class NodeZlibCodec {
    readonly kind = "bytes_to_bytes";
    readonly #level: number;
    constructor(level: number) {
      this.#level = level;
    }
    static fromConfig(config: { level?: number } | undefined): NodeZlibCodec {
      return new NodeZlibCodec(config?.level ?? 5);
    }
    encode(bytes: Uint8Array): Uint8Array {
      return ownedBytes(compress(bytes, { level: this.#level }));
    }
    decode(bytes: Uint8Array): Uint8Array {
      return ownedBytes(decompress(bytes));
    }
  };
}

let registered = false;

/**
 * Lets zarrita write `gzip`- and `zlib`-compressed chunks in this process (it ships decoders only).
 *
 * @example
 * ```ts
 * registerGzipEncoder();
 * await zarr.create(loc, { shape: [4], chunkShape: [2], dtype: "float64", codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "gzip", configuration: { level: 1 } }] });
 * ```
 */
export function registerGzipEncoder(): void {
  if (registered) return;
  registered = true;
  // biome-ignore lint/suspicious/noExplicitAny: zarrita's registry is typed for its own codec classes
  const gzip = nodeCodec(gzipSync, gunzipSync) as any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const zlib = nodeCodec(deflateSync, inflateSync) as any;
  for (const name of ["gzip", "numcodecs.gzip"]) zarr.registry.set(name, () => gzip);
  for (const name of ["zlib", "numcodecs.zlib"]) zarr.registry.set(name, () => zlib);
}

/**
 * Encodes strings as a `vlen-utf8` chunk (zarrita reads this codec but cannot write it): a
 * little-endian u32 count, then for each item its u32 byte length and UTF-8 bytes.
 *
 * @example
 * ```ts
 * await store.set("/people/c/0", encodeVlenUtf8(["alice", "bob"]));
 * ```
 */
export function encodeVlenUtf8(items: readonly string[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = items.map((s) => enc.encode(s));
  const out = new Uint8Array(4 + parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, parts.length, true);
  let pos = 4;
  for (const p of parts) {
    view.setUint32(pos, p.byteLength, true);
    out.set(p, pos + 4);
    pos += 4 + p.byteLength;
  }
  return out;
}
