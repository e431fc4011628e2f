import { gunzipSync, gzipSync } from "node:zlib";
import * as zarr from "zarrita";

/** zarrita's `gzip` codec decodes only; this one also encodes, with Node's zlib. */
class NodeGzipCodec {
  readonly kind = "bytes_to_bytes";
  readonly #level: number;
  constructor(level: number) {
    this.#level = level;
  }
  static fromConfig(config: { level?: number } | undefined): NodeGzipCodec {
    return new NodeGzipCodec(config?.level ?? 5);
  }
  encode(bytes: Uint8Array): Uint8Array {
    const out = gzipSync(bytes, { level: this.#level });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  decode(bytes: Uint8Array): Uint8Array {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
}

let registered = false;

/**
 * Lets zarrita write `gzip`-compressed chunks in this process (it ships a decoder only).
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
  zarr.registry.set("gzip", () => NodeGzipCodec as any);
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
