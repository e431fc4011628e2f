// Quickstart: split one Zarr hierarchy across several directory stores, then read it back.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { arrayShardDirectoryStore, DirectoryStore, ShardedStore } from "shardedstore/node";
import * as zarr from "zarrita";

const dir = await mkdtemp(path.join(tmpdir(), "shardedstore-quickstart-"));
const store = new ShardedStore(new DirectoryStore(`${dir}/base.zarr`), {
  shards: { people: new DirectoryStore(`${dir}/people.zarr`) },
  arrayShards: { "simulation/foo": { dims: 1, factory: arrayShardDirectoryStore(`${dir}/foo`) } },
});

const root = zarr.root(store);
await zarr.create(root, { attributes: { description: "quickstart" } });
await zarr.create(root.resolve("people"));
await zarr.create(root.resolve("simulation"));
const heights = await zarr.create(root.resolve("people/heights"), {
  shape: [3],
  chunkShape: [3],
  dtype: "float64",
});
await zarr.set(heights, null, { data: new Float64Array([1.57, 1.82, 1.7]), shape: [3], stride: [1] });
const foo = await zarr.create(root.resolve("simulation/foo"), {
  shape: [12, 4],
  chunkShape: [1, 2],
  dtype: "int32",
});
await zarr.set(foo, null, {
  data: Int32Array.from({ length: 48 }, (_, i) => i),
  shape: [12, 4],
  stride: [4, 1],
});

const back = await zarr.get(await zarr.open(root.resolve("simulation/foo"), { kind: "array" }), [11, null]);
console.log("row 11 of simulation/foo:", Array.from(back.data));
console.log("key /simulation/foo/c/11/1 is stored in", String(store.resolve("/simulation/foo/c/11/1").store));
console.log("stores in the composition:", (await store.shards()).length);
console.log("written under", dir);
