// What an array shard accepts, and the standalone metadata each index store gets: the document that
// decides what lands on disk and whether zarr readers can open an index store on its own.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { parseArrayMetadata } from "../src/array-metadata.js";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ArrayShardError } from "../src/errors.js";
import { MemoryStore } from "../src/memory-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath } from "../src/types.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
type Doc = Record<string, unknown>;

function v3(over: Doc = {}): Doc {
  return {
    zarr_format: 3,
    node_type: "array",
    shape: [6, 5, 4],
    data_type: "int16",
    chunk_grid: { name: "regular", configuration: { chunk_shape: [1, 2, 4] } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: 0,
    codecs: [{ name: "bytes", configuration: { endian: "little" } }],
    attributes: { units: "K" },
    ...over,
  };
}

function v2(over: Doc = {}): Doc {
  return {
    zarr_format: 2,
    shape: [6, 5, 4],
    chunks: [1, 2, 4],
    dtype: "<i2",
    compressor: null,
    fill_value: 0,
    filters: null,
    order: "C",
    ...over,
  };
}

const parse3 = (doc: Doc, dims = 1) =>
  parseArrayMetadata("grp/arr", enc.encode(JSON.stringify(doc)), "zarr.json", dims);
const parse2 = (doc: Doc, dims = 1) =>
  parseArrayMetadata("grp/arr", enc.encode(JSON.stringify(doc)), ".zarray", dims);
const sub = (r: { subDocument: Uint8Array }) => JSON.parse(dec.decode(r.subDocument)) as Doc;

/** The error a call throws (it must throw an ArrayShardError naming the array). */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ArrayShardError);
    expect((e as ArrayShardError).path).toBe("grp/arr");
    const msg = (e as Error).message;
    expect(msg.startsWith('array shard "grp/arr": ')).toBe(true);
    return msg;
  }
  throw new Error("expected a refusal");
}

// Codecs whose output depends only on a chunk's bytes or elements, never on its shape: an index
// store can keep them as they are. (zarr v3 core codecs, numcodecs' v3 names, numcodecs v2 ids.)
const V3_SHAPE_FREE = [
  "bytes",
  "endian",
  "gzip",
  "zstd",
  "blosc",
  "crc32c",
  "vlen-utf8",
  "vlen-bytes",
  "numcodecs.zlib",
  "numcodecs.bz2",
  "numcodecs.lzma",
  "numcodecs.lz4",
  "numcodecs.delta",
  "numcodecs.fixedscaleoffset",
  "numcodecs.quantize",
  "numcodecs.bitround",
  "numcodecs.astype",
  "numcodecs.packbits",
  "numcodecs.shuffle",
  "numcodecs.crc32",
  "numcodecs.adler32",
  "numcodecs.fletcher32",
];
const V2_SHAPE_FREE = [
  "zlib",
  "gzip",
  "bz2",
  "lzma",
  "blosc",
  "zstd",
  "lz4",
  "delta",
  "fixedscaleoffset",
  "quantize",
  "bitround",
  "astype",
  "packbits",
  "categorize",
  "shuffle",
  "vlen-utf8",
  "vlen-bytes",
  "vlen-array",
  "json2",
  "msgpack2",
  "pickle",
  "crc32",
  "adler32",
  "fletcher32",
];

describe("codecs an index store can keep", () => {
  it("accepts each of the 22 shape-free v3 codecs and carries it over unchanged", () => {
    expect(V3_SHAPE_FREE.length).toBe(22);
    for (const name of V3_SHAPE_FREE) {
      const codec = { name, configuration: { level: 3, typesize: 2 } };
      const codecs = [{ name: "bytes", configuration: { endian: "little" } }, codec];
      expect(sub(parse3(v3({ codecs }))).codecs, name).toEqual(codecs);
    }
  });

  it("accepts each of the 24 shape-free v2 codecs as compressor and as filter", () => {
    expect(V2_SHAPE_FREE.length).toBe(24);
    for (const id of V2_SHAPE_FREE) {
      const codec = { id, level: 1 };
      expect(sub(parse2(v2({ compressor: codec }))).compressor, id).toEqual(codec);
      const filters = [{ id: "delta", dtype: "<i2" }, codec];
      expect(sub(parse2(v2({ filters }))).filters, id).toEqual(filters);
    }
  });

  it("refuses codecs that may depend on the chunk's shape, naming the codec and where it is", () => {
    for (const name of ["zfp", "numcodecs.zfpy", "numcodecs.jpeg2k", "pcodec", "Blosc", "numcodecs.blosc2"]) {
      const msg = refusal(() => parse3(v3({ codecs: [{ name: "bytes" }, { name }] })));
      expect(msg).toContain(`codec "${name}" (codecs[1]) may depend on the chunk's dimensions`);
    }
    for (const id of ["zfpy", "jpeg2k", "imagecodecs_jpegxl", "ZLIB", "numcodecs.zlib"]) {
      expect(refusal(() => parse2(v2({ compressor: { id } })))).toContain(`codec "${id}" (compressor)`);
      expect(refusal(() => parse2(v2({ filters: [{ id: "zlib" }, { id }] })))).toContain(
        `codec "${id}" (filters[1])`,
      );
    }
  });

  it("refuses a shape-dependent codec given by bare name, as it does one given as an object", () => {
    for (const name of ["zfp", "numcodecs.zfpy", "transpose", "sharding_indexed"]) {
      expect(refusal(() => parse3(v3({ codecs: ["bytes", name] })))).toContain("codecs[1]");
    }
    expect(refusal(() => parse3(v3({ codecs: ["bytes", "zfp"] })))).toContain(
      'codec "zfp" (codecs[1]) may depend on the chunk\'s dimensions',
    );
  });

  it("refuses codecs with no name or id, and codec lists that are not lists", () => {
    expect(refusal(() => parse3(v3({ codecs: [{ name: "bytes" }, { configuration: {} }] })))).toContain(
      "codecs[1] has no codec name",
    );
    expect(refusal(() => parse3(v3({ codecs: [{ name: 7 }] })))).toContain("codecs[0] has no codec name");
    expect(refusal(() => parse3(v3({ codecs: { name: "bytes" } })))).toContain("codecs must be an array");
    expect(refusal(() => parse2(v2({ compressor: { level: 1 } })))).toContain('compressor has no "id"');
    expect(refusal(() => parse2(v2({ compressor: "zlib" })))).toContain('compressor has no "id"');
    expect(refusal(() => parse2(v2({ filters: [{ id: "zlib" }, {}] })))).toContain('filters[1] has no "id"');
    expect(refusal(() => parse2(v2({ filters: { id: "zlib" } })))).toContain(
      "filters must be null or an array",
    );
  });

  it("keeps v3 codecs given by bare name, and accepts a missing codecs list", () => {
    expect(sub(parse3(v3({ codecs: ["bytes", "gzip"] }))).codecs).toEqual(["bytes", "gzip"]);
    const { codecs: _, ...noCodecs } = v3();
    expect(sub(parse3(noCodecs)).codecs).toEqual([]);
    expect(sub(parse2(v2({ compressor: undefined, filters: undefined })))).toMatchObject({ shape: [5, 4] });
  });
});

describe("codecs adjusted for an index store's remaining dimensions", () => {
  it("drops the sharded dimensions from transpose, renumbering the rest", () => {
    const codecs = [{ name: "transpose", configuration: { order: [2, 0, 1] } }, { name: "bytes" }];
    expect(sub(parse3(v3({ codecs }), 1)).codecs).toEqual([
      { name: "transpose", configuration: { order: [1, 0] } },
      { name: "bytes" },
    ]);
    const ones = { name: "regular", configuration: { chunk_shape: [1, 1, 4] } };
    expect(sub(parse3(v3({ codecs, chunk_grid: ones }), 2)).codecs).toEqual([
      { name: "transpose", configuration: { order: [0] } },
      { name: "bytes" },
    ]);
    expect(
      refusal(() => parse3(v3({ codecs: [{ name: "transpose", configuration: { order: "C" } }] }))),
    ).toContain("codecs[0].configuration.order must be an array of non-negative integers");
  });

  it("keeps sharding_indexed's inner codecs and index codecs, adjusting them and the inner chunk shape", () => {
    const sharding = {
      name: "sharding_indexed",
      configuration: {
        chunk_shape: [1, 1, 2],
        codecs: [
          { name: "transpose", configuration: { order: [0, 2, 1] } },
          { name: "bytes", configuration: { endian: "little" } },
          { name: "gzip", configuration: { level: 5 } },
        ],
        index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
        index_location: "start",
      },
    };
    const got = sub(parse3(v3({ codecs: [sharding] }), 1));
    expect(got.codecs).toEqual([
      {
        name: "sharding_indexed",
        configuration: {
          chunk_shape: [1, 2],
          codecs: [
            { name: "transpose", configuration: { order: [1, 0] } },
            { name: "bytes", configuration: { endian: "little" } },
            { name: "gzip", configuration: { level: 5 } },
          ],
          index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
          index_location: "start",
        },
      },
    ]);
    // Sharding with a codec an index store cannot keep is refused, naming the nested place.
    const bad = {
      ...sharding,
      configuration: { ...sharding.configuration, index_codecs: [{ name: "zfp" }] },
    };
    expect(refusal(() => parse3(v3({ codecs: [bad] })))).toContain(
      "(codecs[0].configuration.index_codecs[0])",
    );
    const badInner = { ...sharding, configuration: { ...sharding.configuration, codecs: [{ name: "zfp" }] } };
    expect(refusal(() => parse3(v3({ codecs: [badInner] })))).toContain(
      "(codecs[0].configuration.codecs[0])",
    );
    // An inner chunk must be 1 along a sharded dimension.
    const wide = { ...sharding, configuration: { ...sharding.configuration, chunk_shape: [2, 1, 2] } };
    expect(refusal(() => parse3(v3({ codecs: [wide] })))).toContain(
      "sharding_indexed inner chunk_shape [2,1,2] must be 1 on sharded dimensions",
    );
    expect(sub(parse3(v3({ codecs: [wide] }), 0)).codecs).toEqual([wide]);
    const noShape = { name: "sharding_indexed", configuration: { codecs: [] } };
    expect(refusal(() => parse3(v3({ codecs: [noShape] })))).toContain(
      "codecs[0].configuration.chunk_shape must be",
    );
  });

  it("gives sharding_indexed without inner codec lists empty ones", () => {
    const sharding = { name: "sharding_indexed", configuration: { chunk_shape: [1, 2, 2] } };
    expect(sub(parse3(v3({ codecs: [sharding] }), 1)).codecs).toEqual([
      { name: "sharding_indexed", configuration: { chunk_shape: [2, 2], codecs: [], index_codecs: [] } },
    ]);
  });
});

describe("shapes, chunks and grids", () => {
  it("refuses negative, fractional and non-numeric shapes and chunks", () => {
    for (const shape of [[6, -1, 4], [6, 2.5, 4], [-6, 5, 4], "6,5,4", [6, "5", 4], null]) {
      expect(refusal(() => parse3(v3({ shape })))).toContain(
        `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
      );
      expect(refusal(() => parse2(v2({ shape })))).toContain(
        "shape must be an array of non-negative integers",
      );
    }
    for (const chunks of [
      [1, -2, 4],
      [1, 0.5, 4],
      [1, 2, Number.MAX_SAFE_INTEGER + 2],
    ]) {
      expect(refusal(() => parse2(v2({ chunks })))).toContain(
        "chunks must be an array of non-negative integers",
      );
      const grid = { name: "regular", configuration: { chunk_shape: chunks } };
      expect(refusal(() => parse3(v3({ chunk_grid: grid })))).toContain(
        "chunk_grid.configuration.chunk_shape must be an array of non-negative integers",
      );
    }
  });

  it("refuses chunks whose length does not match the shape", () => {
    for (const chunks of [[1, 2], [1, 2, 4, 1], []]) {
      expect(refusal(() => parse2(v2({ chunks })))).toContain(
        `chunks ${JSON.stringify(chunks)} do not match shape [6,5,4]`,
      );
      const grid = { name: "regular", configuration: { chunk_shape: chunks } };
      expect(refusal(() => parse3(v3({ chunk_grid: grid })))).toContain("do not match shape");
    }
  });

  it("refuses sharding more dimensions than the array has, or a chunk size other than 1 on them", () => {
    expect(refusal(() => parse3(v3(), 4))).toContain(
      "cannot shard 4 dimensions of an array with 3 (shape [6,5,4])",
    );
    expect(refusal(() => parse2(v2(), 4))).toContain("cannot shard 4 dimensions of an array with 3");
    expect(refusal(() => parse3(v3(), 2))).toContain(
      "chunk size along sharded dimension 1 must be 1, got 2 (chunks [1,2,4])",
    );
    const grid = { name: "regular", configuration: { chunk_shape: [3, 1, 4] } };
    expect(refusal(() => parse3(v3({ chunk_grid: grid }), 1))).toContain(
      "sharded dimension 0 must be 1, got 3",
    );
    // All dimensions, each of chunk size 1: fine, and the index store is 0-dimensional.
    const ones = { name: "regular", configuration: { chunk_shape: [1, 1, 1] } };
    expect(sub(parse3(v3({ chunk_grid: ones }), 3))).toMatchObject({ shape: [] });
  });

  it("computes the chunk grid and the index store's shape for any valid array (property)", () => {
    const dimArb = fc.record({
      size: fc.integer({ min: 0, max: 50 }),
      chunk: fc.integer({ min: 1, max: 9 }),
    });
    fc.assert(
      fc.property(fc.array(dimArb, { minLength: 1, maxLength: 4 }), fc.nat(), (ds, d) => {
        const dims = 1 + (d % ds.length);
        const shape = ds.map((x) => x.size);
        const chunks = ds.map((x, i) => (i < dims ? 1 : x.chunk));
        const grid = shape.map((s, i) => Math.ceil(s / (chunks[i] as number)));
        const a = parse3(
          v3({ shape, chunk_grid: { name: "regular", configuration: { chunk_shape: chunks } } }),
          dims,
        );
        expect(a.layout).toEqual({
          format: 3,
          encoding: "default",
          separator: "/",
          ndim: shape.length,
          grid,
        });
        expect(sub(a)).toMatchObject({
          shape: shape.slice(dims),
          chunk_grid: { name: "regular", configuration: { chunk_shape: chunks.slice(dims) } },
        });
        const b = parse2(v2({ shape, chunks }), dims);
        expect(b.layout).toEqual({ format: 2, encoding: "v2", separator: ".", ndim: shape.length, grid });
        expect(sub(b)).toMatchObject({ shape: shape.slice(dims), chunks: chunks.slice(dims) });
      }),
    );
  });

  it("counts a zero chunk size on an empty dimension as one chunk-less column", () => {
    const a = parse2(v2({ shape: [3, 0], chunks: [1, 0] }), 1);
    expect(a.layout.grid).toEqual([3, 0]);
  });
});

describe("v3 documents", () => {
  it("refuses what is not an array with a regular grid", () => {
    expect(refusal(() => parse3(v3({ node_type: "group" })))).toContain(
      'zarr.json has node_type "group"; an array shard must be an array',
    );
    expect(refusal(() => parse3(v3({ zarr_format: 2 })))).toContain("zarr.json must have zarr_format 3");
    for (const chunk_grid of [
      { name: "rectilinear", configuration: { chunk_shape: [1, 2, 4] } },
      { name: "regular" },
      "regular",
    ]) {
      expect(refusal(() => parse3(v3({ chunk_grid })))).toContain(
        `only the "regular" chunk grid can be sharded, got ${JSON.stringify(chunk_grid)}`,
      );
    }
  });

  it("refuses storage transformers, which would change what the keys mean", () => {
    const st = [{ name: "chunk-manifest-json", configuration: {} }];
    expect(refusal(() => parse3(v3({ storage_transformers: st })))).toContain(
      "storage_transformers cannot be carried over to the index stores",
    );
    expect(sub(parse3(v3({ storage_transformers: [] }))).storage_transformers).toEqual([]);
  });

  it("reads each chunk key encoding and keeps it in the index store", () => {
    const cases: [unknown, string, string][] = [
      [undefined, "default", "/"],
      [{ name: "default" }, "default", "/"],
      [{ name: "default", configuration: { separator: "." } }, "default", "."],
      [{ name: "v2" }, "v2", "."],
      [{ name: "v2", configuration: {} }, "v2", "."],
      [{ name: "v2", configuration: { separator: "/" } }, "v2", "/"],
      [{ name: "v2", configuration: { separator: "." } }, "v2", "."],
    ];
    for (const [cke, encoding, separator] of cases) {
      const doc = v3({ chunk_key_encoding: cke });
      if (cke === undefined) delete doc.chunk_key_encoding;
      const r = parse3(doc);
      expect(r.layout, JSON.stringify(cke)).toMatchObject({ encoding, separator });
      expect(r.subKey).toBe("/zarr.json");
      expect(sub(r).chunk_key_encoding).toEqual(cke);
    }
    expect(refusal(() => parse3(v3({ chunk_key_encoding: { name: "v3" } })))).toContain(
      'unknown chunk_key_encoding "v3"',
    );
    for (const separator of ["\\", "", 7]) {
      expect(
        refusal(() => parse3(v3({ chunk_key_encoding: { name: "default", configuration: { separator } } }))),
      ).toContain(`chunk key separator must be "/" or ".", got ${JSON.stringify(separator)}`);
    }
  });

  it("keeps everything else, slicing dimension names", () => {
    const ones = { name: "regular", configuration: { chunk_shape: [1, 1, 4] } };
    const doc = v3({ dimension_names: ["t", "y", "x"], storage_transformers: [], chunk_grid: ones });
    const got = sub(parse3(doc, 2));
    expect(got).toEqual({
      ...doc,
      shape: [4],
      chunk_grid: { name: "regular", configuration: { chunk_shape: [4] } },
      dimension_names: ["x"],
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    });
    expect("dimension_names" in sub(parse3(v3()))).toBe(false);
  });
});

describe("v2 documents", () => {
  it("reads the dimension separator, keeps the rest, and writes zarr-python's layout", () => {
    for (const [sep, want] of [
      [undefined, "."],
      [".", "."],
      ["/", "/"],
    ] as const) {
      const r = parse2(v2(sep === undefined ? {} : { dimension_separator: sep }), 1);
      expect(r.layout).toMatchObject({
        format: 2,
        encoding: "v2",
        separator: want,
        ndim: 3,
        grid: [6, 3, 1],
      });
      expect(r.subKey).toBe("/.zarray");
      expect(sub(r)).toEqual({
        ...v2(sep === undefined ? {} : { dimension_separator: sep }),
        shape: [5, 4],
        chunks: [2, 4],
      });
    }
    expect(refusal(() => parse2(v2({ dimension_separator: "\\" })))).toContain(
      'dimension_separator must be "/" or ".", got "\\\\"',
    );
    expect(refusal(() => parse2(v2({ zarr_format: 3 })))).toContain(".zarray must have zarr_format 2");
  });
});

describe("documents that are not JSON objects", () => {
  it("are refused, naming the file", () => {
    const bytes = (s: string) => enc.encode(s);
    const raw = (s: string, name: "zarr.json" | ".zarray") =>
      parseArrayMetadata("grp/arr", bytes(s), name, 1);
    expect(refusal(() => raw("{", "zarr.json"))).toContain("zarr.json is not valid JSON");
    // The parser's own message stays reachable for whoever debugs the file.
    expect(() => raw('{"zarr_format": 3,', "zarr.json")).toThrow(
      expect.objectContaining({ cause: expect.any(SyntaxError) }),
    );
    expect(refusal(() => raw("{", ".zarray"))).toContain(".zarray is not valid JSON");
    for (const s of ["[]", "null", "3", '"x"']) {
      expect(refusal(() => raw(s, "zarr.json"))).toContain("zarr.json must be a JSON object");
      expect(refusal(() => raw(s, ".zarray"))).toContain(".zarray must be a JSON object");
    }
  });
});

describe("through the ShardedStore", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "ss-pin-meta-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a v3 array with the v2 chunk key encoding: chunks land in index stores under v2 keys", async () => {
    const base = new MemoryStore();
    const shards = new Map<string, MemoryStore>();
    const store = new ShardedStore(base, {
      arrayShards: {
        arr: {
          dims: 1,
          factory: ([i]) => {
            const s = new MemoryStore();
            shards.set(String(i), s);
            return s;
          },
        },
      },
    });
    const meta = v3({
      shape: [3, 4],
      chunk_grid: { name: "regular", configuration: { chunk_shape: [1, 2] } },
      chunk_key_encoding: { name: "v2", configuration: { separator: "." } },
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
    });
    await store.set(
      "/zarr.json",
      enc.encode(JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} })),
    );
    await store.set("/arr/zarr.json", enc.encode(JSON.stringify(meta)));
    const arr = await zarr.open(zarr.root(store as zarr.Mutable).resolve("arr"), { kind: "array" });
    const data = new Int16Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await zarr.set(arr, null, { data, shape: [3, 4], stride: [4, 1] } as never);
    expect(await listAll(base)).toEqual(["/arr/zarr.json", "/zarr.json"]);
    expect([...shards.keys()].sort()).toEqual(["0", "1", "2"]);
    for (const [, s] of shards) expect(await listAll(s)).toEqual(["/0", "/1", "/zarr.json"]);
    expect(await readArray(store, "arr")).toMatchObject({
      shape: [3, 4],
      values: [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10, 11, 12],
      ],
    });
    // Each index store is an array of its own, with the same encoding.
    const row = await zarr.open(shards.get("2")!, { kind: "array" });
    expect(Array.from((await zarr.get(row)).data as Int16Array)).toEqual([9, 10, 11, 12]);
  });

  it("a default zarr-python 2 array (blosc compressor) shards, and each index store opens in zarr-python", async () => {
    await python(
      `
import sys, zarr, numpy as np
z = zarr.open_array(zarr.DirectoryStore(sys.argv[1]), mode='w', shape=(4, 6), chunks=(1, 4), dtype='i4')
z[...] = np.arange(24, dtype='i4').reshape(4, 6)
assert z.compressor.codec_id == 'blosc'
`,
      `${dir}/single.zarr`,
    );
    const single = new DirectoryStore(`${dir}/single.zarr`);
    const sharded = new ShardedStore(new DirectoryStore(`${dir}/base.zarr`), {
      arrayShards: { arr: { dims: 1, factory: arrayShardDirectoryStore(`${dir}/shards`) } },
    });
    const keys = await listAll(single);
    keys.sort((a, b) => Number(a !== "/.zarray") - Number(b !== "/.zarray"));
    for (const k of keys) {
      await sharded.set(`/arr${k}` as AbsolutePath, (await single.get(k as AbsolutePath))!);
    }
    expect(await listAll(new DirectoryStore(`${dir}/base.zarr`))).toEqual(["/arr/.zarray"]);
    const out = await python(
      `
import sys, json, zarr, numpy as np
full = np.arange(24, dtype='i4').reshape(4, 6)
res = []
for i in range(4):
    sub = zarr.open_array(zarr.DirectoryStore(sys.argv[1] + '/' + str(i) + '.zarr'), mode='r')
    assert np.array_equal(sub[...], full[i]), i
    res.append([sub.compressor.codec_id, list(sub.shape), list(sub.chunks)])
print(json.dumps(res))
`,
      `${dir}/shards`,
    );
    expect(JSON.parse(out)).toEqual(Array.from({ length: 4 }, () => ["blosc", [6], [4]]));
  });
});
