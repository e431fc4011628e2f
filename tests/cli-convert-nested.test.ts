// convert of a composition that mounts another composition as a group shard: the nested
// composition is flattened into one store (one zip, or one directory) — documented in docs/cli.md.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryStore, openShardedStore, ShardedStore, saveShardedStore, ZipStore } from "../src/node.js";
import { cli, sameArrays } from "./helpers/cli-in-process.js";

let work: string;
let outer: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "ss-nested-"));
  const demo = path.join(work, "demo");
  expect((await cli(["demo", "--out", demo, "--no-progress"])).code).toBe(0);
  const inner = await openShardedStore(path.join(demo, "sharded/composition.json"));
  const baseDir = path.join(demo, "outer-base.zarr");
  await new DirectoryStore(baseDir).set(
    "/zarr.json",
    new TextEncoder().encode(JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} })),
  );
  outer = path.join(demo, "nested.json");
  await saveShardedStore(new ShardedStore(new DirectoryStore(baseDir), { shards: { nested: inner } }), outer);
  await inner.close();
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("convert of a nested composition", () => {
  for (const to of ["zip", "dir"] as const) {
    it(`--to ${to} flattens the nested composition into one store, data unchanged`, async () => {
      const out = path.join(work, `nested-${to}`);
      const r = await cli(["convert", outer, "--to", to, "--out", out, "--json", "--no-progress"]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ stores: 2, converted: 2 });
      expect(r.stderr).toBe(
        `warning: group shard "nested" is itself a composition: flattened into one ${to === "zip" ? "zip" : "directory"} holding all its keys (convert it on its own first to keep its sharding)\n`,
      );
      const converted = await openShardedStore(path.join(out, "composition.json"));
      try {
        const stores = await converted.shards();
        expect(stores.map((s) => [s.kind, s.mount])).toEqual([
          ["base", ""],
          ["group", "nested"],
        ]);
        const flat = stores[1]!.store;
        expect(flat).toBeInstanceOf(to === "zip" ? ZipStore : DirectoryStore);
        expect(flat).not.toBeInstanceOf(ShardedStore);
        // Every key of the nested composition (its array shards' chunks included) is in that one store.
        const nested = await openShardedStore(outer);
        const want: string[] = [];
        for await (const k of (nested.shardMounts.get("nested") as ShardedStore).list()) want.push(k);
        const got: string[] = [];
        for await (const k of flat.list!()) got.push(k);
        expect(got.sort()).toEqual(want.sort());
        expect(want.some((k) => k.startsWith("/simulation/fine/foo/c/"))).toBe(true);
        await nested.close();
      } finally {
        await converted.close();
      }
      const same = await sameArrays(path.join(out, "composition.json"), outer);
      expect(same.differ).toEqual([]);
      expect(same.compared).toBeGreaterThan(0);
    }, 120_000);
  }
});
