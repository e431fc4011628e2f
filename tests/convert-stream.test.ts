// `convertComposition` converts store by store without keeping the results (the new composition's
// index stores are found by its factory when the config is saved): its config must be exactly the
// one `mapShards` gives, its counts those of the source, and a rerun must skip every store.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertComposition } from "../src/cli/convert.js";
import { toDirectoryStoreWithPrefix } from "../src/cli/layout.js";
import {
  arrayShardDirectoryStore,
  DirectoryStore,
  openShardedStore,
  ShardedStore,
  saveShardedStore,
  toZipStoreWithPrefix,
} from "../src/node.js";
import { v2Array } from "./helpers/metadata.js";
import { storeContents } from "./helpers/store-contents.js";

const GRID = [3, 4] as const;
let work: string;
let source: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "convert-stream-"));
  source = await build(path.join(work, "src"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const json = (o: unknown) => `${JSON.stringify(o)}\n`;
const meta = (shape: number[], chunks: number[]) => v2Array(shape, chunks, ".");

/** Base, a group shard, and GRID index stores with 1–3 chunks each (different counts, different bytes). */
async function build(dir: string): Promise<string> {
  await mkdir(path.join(dir, "base.zarr/a"), { recursive: true });
  await writeFile(path.join(dir, "base.zarr/.zgroup"), json({ zarr_format: 2 }));
  await writeFile(path.join(dir, "base.zarr/a/.zarray"), meta([GRID[0], GRID[1], 12], [1, 1, 4]));
  await mkdir(path.join(dir, "group.zarr"), { recursive: true });
  await writeFile(path.join(dir, "group.zarr/.zgroup"), json({ zarr_format: 2 }));
  for (let i = 0; i < GRID[0]; i++)
    for (let j = 0; j < GRID[1]; j++) {
      const s = path.join(dir, `a/${i}/${j}.zarr`);
      await mkdir(s, { recursive: true });
      await writeFile(path.join(s, ".zarray"), meta([12], [4]));
      for (let c = 0; c <= (i + j) % 3; c++)
        await writeFile(
          path.join(s, String(c)),
          Uint8Array.from({ length: 4 }, (_, k) => i * 16 + j * 4 + c + k),
        );
    }
  const store = new ShardedStore(new DirectoryStore(path.join(dir, "base.zarr")), {
    shards: { g: new DirectoryStore(path.join(dir, "group.zarr")) },
    arrayShards: { a: { dims: 2, factory: arrayShardDirectoryStore(path.join(dir, "a")) } },
  });
  const config = path.join(dir, "composition.json");
  await saveShardedStore(store, config, { form: "expanded" });
  await store.close();
  return config;
}

/** The config `mapShards` with the same transformation writes for the same output folder. */
async function viaMapShards(config: string, to: "zip" | "dir", out: string): Promise<string> {
  const src = await openShardedStore(config);
  const prefix = path.join(out, "data");
  const fn = to === "zip" ? toZipStoreWithPrefix(prefix) : toDirectoryStoreWithPrefix(prefix);
  const result = await src.mapShards(fn, { concurrency: 4 });
  await saveShardedStore(result, path.join(out, "composition.json"));
  await result.close();
  await src.close();
  return readFile(path.join(out, "composition.json"), "utf8");
}

describe("convertComposition, store by store", () => {
  it("writes the config mapShards gives, counts the source's stores and keys, and a rerun skips every store", async () => {
    const stores = GRID[0] * GRID[1] + 2;
    const src = await openShardedStore(source);
    let keys = 0;
    for (const e of await src.shards()) for await (const _ of e.store.list!()) keys++;
    let from = source;
    for (const to of ["zip", "dir"] as const) {
      const out = path.join(work, `to-${to}`);
      const expected = await viaMapShards(from, to, path.join(work, `mapped-${to}`));
      const opened = await openShardedStore(from);
      const r = await convertComposition(opened, to, out, { progress: false, concurrency: 5 });
      await r.result.close();
      expect(await readFile(r.config, "utf8")).toBe(expected.replaceAll(`mapped-${to}`, `to-${to}`));
      expect({ stores: r.stores, converted: r.converted, skipped: r.skipped, keys: r.keysBefore }).toEqual({
        stores,
        converted: stores,
        skipped: 0,
        keys,
      });
      const again = await convertComposition(opened, to, out, { progress: false, concurrency: 3 });
      await again.result.close();
      expect({
        converted: again.converted,
        skipped: again.skipped,
        keys: again.keysBefore,
        bytes: again.bytes,
      }).toEqual({
        converted: 0,
        skipped: stores,
        keys,
        bytes: 0,
      });
      await opened.close();
      const result = await openShardedStore(r.config);
      expect(await storeContents(result), to).toEqual(await storeContents(src));
      await result.close();
      from = r.config;
    }
    await src.close();
  });
});
