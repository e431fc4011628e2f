import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { gunzipSync, inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { registerGzipEncoder } from "../../src/cli/codecs.js";
import { DirectoryStore } from "../../src/directory-store.js";
import { FetchStore } from "../../src/fetch-store.js";
import { MemoryStore } from "../../src/memory-store.js";
import { ShardedStore } from "../../src/sharded-store.js";
import type { AbsolutePath, Store } from "../../src/types.js";
import { ZipStore } from "../../src/zip-store-node.js";
import { startStaticServer } from "../helpers/http-server.js";
import { python } from "../helpers/python.js";

// Shape not a multiple of the chunk shape: the last row and column of chunks are partial.
const SHAPE = [5, 7];
const CHUNKS = [2, 3];
const CHUNK_BYTES = CHUNKS[0]! * CHUNKS[1]! * 4;
const GRID = [3, 3];
const EDITS: [number, number][] = [
  [0, 0],
  [4, 6],
  [4, 0],
  [1, 6],
  [2, 4],
];
type Codec = "none" | "gzip" | "zlib";
type Version = 2 | 3;

function initial(): Int32Array {
  return Int32Array.from({ length: SHAPE[0]! * SHAPE[1]! }, (_, i) => i + 1);
}
function finalData(): Int32Array {
  const d = initial();
  for (const [r, c] of EDITS) d[r * SHAPE[1]! + c] = -1000 - r * 10 - c;
  return d;
}

function chunkKey(version: Version, i: number, j: number): AbsolutePath {
  return (version === 3 ? `/arr/c/${i}/${j}` : `/arr/${i}.${j}`) as AbsolutePath;
}

function decompress(codec: Codec, raw: Uint8Array): Uint8Array {
  if (codec === "gzip") return new Uint8Array(gunzipSync(raw));
  if (codec === "zlib") return new Uint8Array(inflateSync(raw));
  return raw;
}

/** Creates `/arr` (int32, fill 0) in `store` as zarr v2 metadata or with zarrita (v3). */
async function createArray(store: Store, version: Version, codec: Codec): Promise<void> {
  const enc = new TextEncoder();
  if (version === 2) {
    const compressor = codec === "none" ? null : { id: codec, level: 1 };
    await store.set!("/.zgroup" as AbsolutePath, enc.encode(JSON.stringify({ zarr_format: 2 })));
    const zarray = {
      zarr_format: 2,
      shape: SHAPE,
      chunks: CHUNKS,
      dtype: "<i4",
      compressor,
      fill_value: 0,
      order: "C",
      filters: null,
    };
    await store.set!("/arr/.zarray" as AbsolutePath, enc.encode(JSON.stringify(zarray)));
    return;
  }
  const codecs: { name: string; configuration: Record<string, unknown> }[] = [
    { name: "bytes", configuration: { endian: "little" } },
  ];
  if (codec !== "none") codecs.push({ name: codec, configuration: { level: 1 } });
  const grp = await zarr.create(zarr.root(store as zarr.Mutable));
  await zarr.create(grp.resolve("arr"), {
    shape: SHAPE,
    chunkShape: CHUNKS,
    dtype: "int32",
    fillValue: 0,
    codecs,
  });
}

async function openArr(store: Store) {
  return zarr.open(zarr.root(store as zarr.Mutable).resolve("arr"), { kind: "array" }) as Promise<
    zarr.Array<"int32", zarr.Mutable>
  >;
}

/** Writes the initial data whole, then edits single elements: each edit re-reads, decodes and re-encodes a chunk. */
async function readModifyWrite(store: Store, version: Version, codec: Codec, reader?: Store): Promise<void> {
  await createArray(store, version, codec);
  const arr = await openArr(store);
  await zarr.set(arr, null, { data: initial(), shape: SHAPE, stride: [SHAPE[1]!, 1] });
  const target = reader ? await openArr(reader) : arr;
  for (const [r, c] of EDITS) {
    await zarr.set(target, [zarr.slice(r, r + 1), zarr.slice(c, c + 1)], -1000 - r * 10 - c);
  }
}

/** Decompressed bytes of every chunk, as zarr-python 2.13 writes them for the final data. */
async function pythonChunks(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const code = `
import sys, json, numpy as np, zarr, numcodecs
shape, chunks, edits = json.loads(sys.argv[2])
d = np.arange(1, shape[0] * shape[1] + 1, dtype="<i4").reshape(shape)
for r, c in edits: d[r, c] = -1000 - r * 10 - c
for name, comp in [("none", None), ("gzip", numcodecs.GZip(1)), ("zlib", numcodecs.Zlib(1))]:
    z = zarr.open_array(sys.argv[1] + "/" + name, mode="w", shape=shape, chunks=chunks, dtype="<i4", compressor=comp, fill_value=0)
    z[...] = d
`;
  await python(code, dir, JSON.stringify([SHAPE, CHUNKS, EDITS]));
  for (const codec of ["none", "gzip", "zlib"] as Codec[]) {
    const store = new DirectoryStore(path.join(dir, codec));
    for (let i = 0; i < GRID[0]!; i++) {
      for (let j = 0; j < GRID[1]!; j++) {
        const raw = await store.get(`/${i}.${j}` as AbsolutePath);
        if (raw) out.set(`${codec}/${i}.${j}`, decompress(codec, raw));
      }
    }
  }
  return out;
}

let tmp: string;
let pyRef: Map<string, Uint8Array>;
beforeAll(async () => {
  registerGzipEncoder();
  tmp = await mkdtemp(path.join(tmpdir(), "owned-bytes-"));
  pyRef = await pythonChunks(path.join(tmp, "python"));
}, 60_000);
afterAll(() => rm(tmp, { recursive: true, force: true }));

let n = 0;
const fresh = () => path.join(tmp, `s${n++}`);

type Subject = { name: string; make: () => Store; done?: (s: Store) => Promise<void> };
const plain: Subject[] = [
  { name: "MemoryStore", make: () => new MemoryStore() },
  { name: "DirectoryStore", make: () => new DirectoryStore(fresh()) },
  { name: "Node ZipStore (mode a)", make: () => new ZipStore(`${fresh()}.zip`, { mode: "a" }) },
];
const subjects: Subject[] = [
  ...plain,
  ...plain.map((p) => ({
    name: `ShardedStore over ${p.name}`,
    make: () =>
      // The array is a group shard: its keys reach the inner store with the mount path stripped.
      new ShardedStore(p.make(), { shards: { arr: p.make() } }),
  })),
];

async function expectChunksLikeReference(store: Store, version: Version, codec: Codec): Promise<void> {
  const reference = new MemoryStore();
  await createArray(reference, version, codec);
  await zarr.set(await openArr(reference), null, { data: finalData(), shape: SHAPE, stride: [SHAPE[1]!, 1] });
  for (let i = 0; i < GRID[0]!; i++) {
    for (let j = 0; j < GRID[1]!; j++) {
      const key = chunkKey(version, i, j);
      const got = await store.get(key);
      const want = await reference.get(key);
      expect(got, `${key} exists`).toBeDefined();
      const plainGot = decompress(codec, got!);
      expect(plainGot.byteLength, `${key} decoded length`).toBe(CHUNK_BYTES);
      // Compressed bytes too: same encoder, same input, so exactly the bytes of a fresh write.
      expect(Buffer.from(got!).equals(Buffer.from(want!)), `${key} bytes equal a fresh write`).toBe(true);
      if (version === 2) {
        const py = pyRef.get(`${codec}/${i}.${j}`);
        expect(Buffer.from(plainGot).equals(Buffer.from(py!)), `${key} equals zarr-python's chunk`).toBe(
          true,
        );
      }
    }
  }
}

describe.each([2, 3] as Version[])("zarr v%i: a read-modify-write of partial edge chunks", (version) => {
  describe.each(["none", "gzip", "zlib"] as Codec[])("codec %s", (codec) => {
    it.each(subjects.map((s) => [s.name, s] as const))(
      "through %s equals a fresh write",
      async (_, subject) => {
        const store = subject.make();
        await readModifyWrite(store, version, codec);
        await expectChunksLikeReference(store, version, codec);
        await store.close?.();
      },
    );

    it("read through FetchStore over HTTP, written to the served directory, equals a fresh write", async () => {
      const dir = fresh();
      const disk = new DirectoryStore(dir);
      const server = await startStaticServer(dir);
      try {
        const fetchStore = new FetchStore(`${server.url}/`);
        // Reads come from the server, writes go to the directory it serves.
        const split: Store = {
          get: (k, o) => fetchStore.get(k, o),
          getRange: (k, r, o) => fetchStore.getRange(k, r, o),
          set: (k, v) => disk.set(k, v),
        };
        await readModifyWrite(disk, version, codec, split);
        expect(
          server.requests.some((r) => /\/arr\/(c\/)?\d/.test(r.path)),
          "chunks were read over HTTP",
        ).toBe(true);
        await expectChunksLikeReference(disk, version, codec);
      } finally {
        await server.close();
      }
    });
  });
});

describe("values own exactly their bytes", () => {
  it("codecs, DirectoryStore and MemoryStore return arrays spanning their whole buffer", async () => {
    const dir = new DirectoryStore(fresh());
    const mem = new MemoryStore();
    const value = Uint8Array.from({ length: 100 }, (_, i) => i);
    for (const s of [dir, mem]) {
      await s.set("/k" as AbsolutePath, value.subarray(10, 50));
      for (const got of [
        await s.get("/k" as AbsolutePath),
        await s.getRange("/k" as AbsolutePath, { offset: 3, length: 7 }),
        await s.getRange("/k" as AbsolutePath, { suffixLength: 5 }),
        await s.getRange("/k" as AbsolutePath, { offset: 35, length: 50 }),
      ]) {
        expect(got!.byteOffset).toBe(0);
        expect(got!.buffer.byteLength).toBe(got!.byteLength);
      }
    }
    for (const name of ["gzip", "zlib"]) {
      const Codec = (await zarr.registry.get(name)?.()) as unknown as {
        fromConfig(c: object): { encode(b: Uint8Array): Uint8Array; decode(b: Uint8Array): Uint8Array };
      };
      const c = Codec.fromConfig({ level: 1 });
      const enc = c.encode(value.subarray(1, 9));
      const dec = c.decode(enc);
      for (const b of [enc, dec]) expect(b.buffer.byteLength, `${name}`).toBe(b.byteLength);
      expect(Array.from(dec)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
  });
});
