// Raw limit: a full read of a sharded store vs fs.readFile of the same files in the same order.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { CONCURRENCY } from "./directory.mjs";
import { makeData, shardedDirectory, writeArray } from "./end-to-end.mjs";
import { compare, figure, pool } from "./measure.mjs";

export async function run() {
  const tmp = await mkdtemp(path.join(tmpdir(), "ss-bench-raw-"));
  try {
    await writeArray(shardedDirectory(tmp), makeData());
    // Every logical key, in list() order, and the file each one lives in.
    const probe = shardedDirectory(tmp);
    const keys = [];
    for await (const k of probe.list()) keys.push(k);
    const files = keys.map((k) => {
      const r = probe.resolve(k);
      return r.store.root + r.key;
    });
    let bytes = 0;
    for (const f of files) bytes += (await readFile(f)).length;
    let sink = 0;
    const getAll = async (store) =>
      pool(keys, CONCURRENCY, async (k) => {
        sink += (await store.get(k)).length;
      });
    const res = await compare({
      ours: { run: () => getAll(shardedDirectory(tmp)) },
      listed: {
        run: async () => {
          const store = shardedDirectory(tmp);
          const ks = [];
          for await (const k of store.list()) ks.push(k);
          await getAll(store);
        },
      },
      baseline: {
        run: () =>
          pool(files, CONCURRENCY, async (f) => {
            sink += (await readFile(f)).length;
          }),
      },
    });
    if (sink === 0) throw new Error("nothing read");
    const common = {
      section: "Raw limit",
      kind: "speed",
      unit: "B",
      work: bytes,
      target: 0.8,
      baselineName: "fs.readFile, same files, same order",
    };
    return {
      figures: [
        figure({
          ...common,
          name: `get every key (${keys.length} keys, 64 MiB, ${CONCURRENCY} at a time), fresh ShardedStore`,
          ours: res.ours,
          baseline: res.baseline,
        }),
        figure({
          ...common,
          name: "the same including list() of the composition",
          ours: res.listed,
          baseline: res.baseline,
        }),
      ],
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
