import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore } from "../../src/node.js";
import { objects, planAndApply } from "../helpers/plan.js";

// Minutes on a busy machine: 10^5 files are written, planned, packed and read back.
let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "plan-scale-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
}, 600_000);

describe("shardedstore plan at scale", () => {
  it("on a generated store of 10^5 chunks: the plan meets its limits and the applied result reads equal", async () => {
    const src = path.join(work, "big.zarr");
    const shape = [100, 1000];
    await mkdir(src, { recursive: true });
    await writeFile(
      path.join(src, "zarr.json"),
      JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }),
    );
    await mkdir(path.join(src, "v"));
    await writeFile(
      path.join(src, "v/zarr.json"),
      JSON.stringify({
        zarr_format: 3,
        node_type: "array",
        shape,
        data_type: "float32",
        chunk_grid: { name: "regular", configuration: { chunk_shape: [1, 1] } },
        chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
        fill_value: 0,
        codecs: [{ name: "bytes", configuration: { endian: "little" } }],
      }),
    );
    for (let i = 0; i < shape[0]!; i++) {
      await mkdir(path.join(src, "v/c", String(i)), { recursive: true });
      const writes: Promise<void>[] = [];
      for (let j = 0; j < shape[1]!; j++) {
        writes.push(
          writeFile(
            path.join(src, "v/c", String(i), String(j)),
            new Uint8Array(new Float32Array([i * 1000 + j]).buffer),
          ),
        );
      }
      await Promise.all(writes);
    }
    const out = path.join(work, "big-packed.zarr");
    const plan = await planAndApply(src, out, ["--max-objects", "1000", "--max-object-bytes", "16K"]);
    expect(plan.meets).toBe(true);
    const got = await objects(out);
    expect(got.count).toBe(plan.after.objects);
    expect(got.count).toBeLessThanOrEqual(1000);
    expect(got.largest).toBeLessThanOrEqual(16 * 1024);
    // The source's values, as written above (zarrita would open all 10^5 chunk files at once).
    const want = Float32Array.from(
      { length: shape[0]! * shape[1]! },
      (_, n) => Math.floor(n / shape[1]!) * 1000 + (n % shape[1]!),
    );
    const packed = await zarr.open(zarr.root(new DirectoryStore(out)).resolve("v"), { kind: "array" });
    // Row by row: zarrita reads every inner chunk of a selection at once.
    for (let i = 0; i < shape[0]!; i++) {
      const got2 = (await zarr.get(packed, [i, null])) as { data: Float32Array };
      expect(got2.data).toEqual(want.subarray(i * shape[1]!, (i + 1) * shape[1]!));
    }
    const row = (await zarr.get(
      await zarr.open(zarr.root(new DirectoryStore(src)).resolve("v"), { kind: "array" }),
      [42, zarr.slice(0, 50)],
    )) as {
      data: Float32Array;
    };
    expect(Array.from(row.data)).toEqual(Array.from(want.subarray(42_000, 42_050)));
  }, 600_000);
});
