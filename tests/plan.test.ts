import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, sameArrays } from "./helpers/cli-in-process.js";
import { objects, planAndApply } from "./helpers/plan.js";

const FIXTURES = fileURLToPath(new URL("./fixtures/python-seed", import.meta.url));
let work: string;
let demo: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "plan-"));
  demo = path.join(work, "demo");
  expect((await cli(["demo", "--out", demo, "--no-progress"])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("shardedstore plan", () => {
  it("on the demo composition: packs within the limits; applied, it holds the same arrays", async () => {
    const out = path.join(work, "demo-packed");
    const plan = await planAndApply(path.join(demo, "sharded/composition.json"), out, [
      "--max-objects",
      "80",
      "--max-object-bytes",
      "2K",
    ]);
    expect(plan.meets).toBe(true);
    expect(plan.commands.map((c) => c[0])).toEqual(["pack"]);
    for (const c of plan.choices) expect(c.why.length).toBeGreaterThan(10);
    const got = await objects(out, "composition.json");
    expect(got.count).toBe(plan.after.objects);
    expect(got.count).toBeLessThanOrEqual(80);
    expect(got.largest).toBeLessThanOrEqual(2048);
    expect(await sameArrays(path.join(out, "composition.json"), path.join(demo, "single.zarr"))).toEqual({
      compared: 11,
      differ: [],
    });
  });

  it("on zarr-python's v2 fixture (string arrays cannot be packed): zip shards or one zip, the same data", async () => {
    const source = path.join(FIXTURES, "dot/single.zarr");
    const one = path.join(work, "fixture-one");
    const plan = await planAndApply(source, one, ["--max-objects", "5", "--target", "zip"]);
    expect(plan.commands[0]![0]).toBe("merge");
    expect(plan.after.objects).toBe(1);
    expect((await cli(["verify", `${one}.zarr.zip`, source])).stdout).toContain("OK: identical");
    const split = path.join(work, "fixture-split");
    const p2 = await planAndApply(source, split, ["--max-objects", "40", "--max-object-bytes", "20K"]);
    expect(p2.commands[0]![0]).toBe("reshard");
    expect(p2.choices[0]!.why).toMatch(/cannot be packed/);
    const got = await objects(split, "composition.json");
    expect(got.count).toBe(p2.after.objects);
    expect(got.count).toBeLessThanOrEqual(40);
    expect(got.largest).toBeLessThanOrEqual(20 * 1024);
    expect((await sameArrays(path.join(split, "composition.json"), source)).differ).toEqual([]);
  });

  it("says when no layout meets the limits (exit 1) and does not apply", async () => {
    const out = path.join(work, "never");
    const r = await cli([
      "plan",
      path.join(demo, "single.zarr"),
      "--out",
      out,
      "--max-objects",
      "1",
      "--max-object-bytes",
      "100",
      "--apply",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("DOES NOT meet the limits");
    expect(r.stderr).toMatch(/no layout found/);
    await expect(stat(out)).rejects.toThrow();
  });
});
