import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arrayShardDirectoryStore } from "../src/array-shard-factories.js";
import { DirectoryStore } from "../src/directory-store.js";
import { ShardedStore } from "../src/sharded-store.js";
import type { AbsolutePath, Store } from "../src/types.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";

const SEED = new URL("./fixtures/python-seed/", import.meta.url).pathname;

/** Arrays zarr-python writes: [name, dims, python constructor call]. */
const V2_ARRAYS: [string, number, string][] = [
  [
    "slash3d",
    2,
    "g.create_dataset('slash3d', data=np.arange(11*12*3, dtype='f8').reshape(11,12,3), chunks=(1,1,2), dimension_separator='/', compressor=Zlib(1))",
  ],
  [
    "dot3d",
    1,
    "g.create_dataset('dot3d', data=np.arange(12*4*5, dtype='i4').reshape(12,4,5), chunks=(1,3,2), dimension_separator='.', compressor=None)",
  ],
  [
    "nosep2d",
    2,
    "g.create_dataset('nosep2d', data=np.arange(10*11*4, dtype='u2').reshape(10,11,4), chunks=(1,1,3), compressor=None)",
  ],
  [
    "filtered",
    1,
    "g.create_dataset('filtered', data=np.arange(12*6, dtype='i8').reshape(12,6), chunks=(1,4), filters=[Delta(dtype='i8')], compressor=Zlib(1), dimension_separator='/')",
  ],
  [
    "strings",
    1,
    "g.create_dataset('strings', data=np.array([['ab','cde','f'],['ghij','k','lm'],['n','op','qrstu']], dtype='<U5'), chunks=(1,2), compressor=None)",
  ],
  [
    "objstr",
    1,
    "g.create_dataset('objstr', data=np.array([['ab','c'],['d','efg']], dtype=object), object_codec=VLenUTF8(), chunks=(1,2), compressor=None)",
  ],
  [
    "fortran",
    1,
    "g.create_dataset('fortran', data=np.arange(12*3*4, dtype='f4').reshape(12,3,4), chunks=(1,2,3), order='F', compressor=None, dimension_separator='/')",
  ],
];

const PY_WRITE = `
import sys, zarr, numpy as np
from numcodecs import Zlib, Delta, VLenUTF8
g = zarr.open_group(zarr.DirectoryStore(sys.argv[1]), mode='w')
${V2_ARRAYS.map(([, , call]) => call).join("\n")}
`;

/** zarr-python reads each index store directly and checks it equals the matching slice. */
const PY_CHECK = `
import sys, json, zarr, numpy as np
single = zarr.open_group(zarr.DirectoryStore(sys.argv[1]), mode='r')
out = {}
for name, dims, prefix in json.loads(sys.argv[2]):
    full = single[name][...]
    ok = 0
    for idx in np.ndindex(*full.shape[:dims]):
        sub = zarr.open_array(zarr.DirectoryStore(prefix + '/' + '/'.join(map(str, idx)) + '.zarr'), mode='r')
        assert sub.shape == full.shape[dims:], (name, idx, sub.shape, full.shape)
        assert np.array_equal(sub[...], full[idx]), (name, idx)
        ok += 1
    out[name] = ok
print(json.dumps(out))
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-v2-"));
  await python(PY_WRITE, `${dir}/single.zarr`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function copyAll(from: Store, to: Store): Promise<number> {
  const keys = await listAll(from);
  // Metadata first, as zarr does: chunks of a sharded array route by its metadata.
  keys.sort((a, b) => Number(!/\/\.z/.test(a)) - Number(!/\/\.z/.test(b)));
  for (const k of keys) await to.set!(k as AbsolutePath, (await from.get(k as AbsolutePath))!);
  return keys.length;
}

describe("array shards of Zarr v2 arrays copied key by key", () => {
  let sharded: ShardedStore;
  let single: DirectoryStore;

  beforeAll(async () => {
    single = new DirectoryStore(`${dir}/single.zarr`);
    sharded = new ShardedStore(new DirectoryStore(`${dir}/base.zarr`), {
      arrayShards: Object.fromEntries(
        V2_ARRAYS.map(([name, dims]) => [
          name,
          { dims, factory: arrayShardDirectoryStore(`${dir}/shards/${name}`) },
        ]),
      ),
    });
    expect(await copyAll(single, sharded)).toBeGreaterThan(500);
  });

  it("holds exactly the single store's keys and bytes", async () => {
    const keys = await listAll(sharded);
    expect(keys).toEqual(await listAll(single));
    for (const k of keys)
      expect(await sharded.get(k as AbsolutePath), k).toEqual(await single.get(k as AbsolutePath));
  });

  it("keeps chunks out of the base store, also with no dimension_separator and 2 sharded dims", async () => {
    const baseKeys = await listAll(new DirectoryStore(`${dir}/base.zarr`));
    expect(baseKeys.filter((k) => !/\/\.z(array|attrs|group)$/.test(k))).toEqual([]);
    expect(await listAll(new DirectoryStore(`${dir}/shards/nosep2d/9/10.zarr`))).toEqual([
      "/.zarray",
      "/0",
      "/1",
    ]);
  });

  it("routes v2 chunk keys with multi-digit indices for '/', '.' and no separator", () => {
    expect(sharded.resolve("/slash3d/10/11/1")).toMatchObject({ key: "/1", index: [10, 11] });
    expect(sharded.resolve("/dot3d/11.1.2")).toMatchObject({ key: "/1.2", index: [11] });
    expect(sharded.resolve("/nosep2d/9.10.1")).toMatchObject({ key: "/1", index: [9, 10] });
    expect(sharded.resolve("/nosep2d/9/10/1").store).toBe(sharded.base);
  });

  it("writes index stores that zarr-python opens directly, each equal to its slice", async () => {
    const arg = JSON.stringify(V2_ARRAYS.map(([name, dims]) => [name, dims, `${dir}/shards/${name}`]));
    const counts = JSON.parse(await python(PY_CHECK, `${dir}/single.zarr`, arg));
    expect(counts).toEqual({
      slash3d: 132,
      dot3d: 12,
      nosep2d: 110,
      filtered: 12,
      strings: 3,
      objstr: 2,
      fortran: 12,
    });
  });

  for (const name of ["slash3d", "dot3d", "nosep2d", "strings"]) {
    it(`zarrita reads ${name} through the ShardedStore equal to the single store`, async () => {
      expect(await readArray(sharded, name)).toEqual(await readArray(single, name));
    });
  }
});

describe("the Python original's sharded fixtures, composed by hand", () => {
  for (const flavour of ["slash", "dot"] as const) {
    const root = `${SEED}${flavour}/`;
    const sep = flavour === "slash" ? "/" : ".";
    const stores = new Map<Store, string>();
    const dirStore = (rel: string) => {
      const s = new DirectoryStore(root + rel);
      stores.set(s, rel);
      return s;
    };
    const sharded = new ShardedStore(dirStore("base.zarr"), {
      shards: Object.fromEntries(
        ["people", "species", "observations"].map((g) => [g, dirStore(`${g}.zarr`)]),
      ),
      arrayShards: {
        "simulation/coarse/foo": { dims: 1, factory: ([i]) => dirStore(`array_shards/coarse_foo/${i}.zarr`) },
        "simulation/fine/foo": {
          dims: 2,
          factory: ([i, j]) => dirStore(`array_shards/fine_foo/${i}${sep}${j}.zarr`),
        },
      },
    });
    const values = JSON.parse(readFileSync(`${root}values.json`, "utf8")) as Record<
      string,
      { shape: number[]; values: unknown }
    >;
    const routing = JSON.parse(readFileSync(`${root}routing.json`, "utf8")) as {
      key: string;
      store: string;
      store_key: string;
    }[];

    it(`${flavour}: reads every array equal to values.json`, async () => {
      for (const [name, want] of Object.entries(values)) {
        const got = await readArray(sharded, name);
        expect(got.shape, name).toEqual(want.shape);
        expect(got.values, name).toEqual(want.values);
      }
    });

    it(`${flavour}: resolves every key of routing.json to the same store and inner key`, async () => {
      expect(routing.length).toBe(128);
      for (const r of routing) {
        const got = sharded.resolve(`/${r.key}` as AbsolutePath);
        expect({ key: r.key, store: stores.get(got.store), inner: got.key }).toEqual({
          key: r.key,
          store: r.store,
          inner: `/${r.store_key}`,
        });
      }
    });

    it(`${flavour}: lists exactly the keys of routing.json`, async () => {
      expect(await listAll(sharded)).toEqual(routing.map((r) => `/${r.key}`).sort());
    });
  }
});
