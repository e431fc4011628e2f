import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partOf, storeId, writeManifest } from "../src/cli/parts.js";
import { cli } from "./helpers/cli-in-process.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/python-seed", import.meta.url));

/** One real `shardedstore` process (from the sources, through tsx). */
async function processCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ["--import", "tsx", path.join(ROOT, "src/cli/main.ts"), ...args], {
      cwd: ROOT,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

let work: string;
let demo: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "parts-"));
  demo = path.join(work, "demo");
  expect((await cli(["demo", "--out", demo, "--no-progress"])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("partOf", () => {
  it("puts every store in exactly one part, the same one on every call", () => {
    const ids = [
      storeId("base", ""),
      storeId("group", "people"),
      ...Array.from({ length: 50 }, (_, i) => storeId("array", "a", [i, 2])),
    ];
    for (const n of [1, 2, 3, 7]) {
      const parts = ids.map((id) => partOf(id, n));
      expect(parts.every((p) => p >= 1 && p <= n)).toBe(true);
      expect(ids.map((id) => partOf(id, n))).toEqual(parts);
      if (n > 1) expect(new Set(parts).size).toBeGreaterThan(1);
    }
  });
});

describe("convert / reshard --part K/N and finalize", () => {
  it("convert --part in 3 processes, finalized, equals a single-process convert; a missing part is reported", async () => {
    const source = path.join(demo, "sharded/composition.json");
    const single = path.join(work, "single");
    expect((await cli(["convert", source, "--to", "zip", "--out", single, "--no-progress"])).code).toBe(0);
    const split = path.join(work, "split");
    const [p1, p2] = await Promise.all(
      [1, 2].map((k) =>
        processCli(["convert", source, "--to", "zip", "--out", split, "--part", `${k}/3`, "--json"]),
      ),
    );
    expect(p1!.code).toBe(0);
    expect(p2!.code).toBe(0);
    const early = await cli(["finalize", split]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/missing part 3\/3/);
    const p3 = await processCli([
      "convert",
      source,
      "--to",
      "zip",
      "--out",
      split,
      "--part",
      "3/3",
      "--json",
    ]);
    expect(p3.code).toBe(0);
    const stores = [p1, p2, p3].map((p) => JSON.parse(p!.stdout).stores as number);
    expect(stores.reduce((a, b) => a + b, 0)).toBe(24);
    const again = await processCli([
      "convert",
      source,
      "--to",
      "zip",
      "--out",
      split,
      "--part",
      "2/3",
      "--json",
    ]);
    expect(JSON.parse(again.stdout).alreadyComplete).toBe(true);
    const fin = await cli(["finalize", split, "--json"]);
    expect(fin.stderr).toBe("");
    expect(JSON.parse(fin.stdout)).toMatchObject({ parts: 3, stores: 24, command: "convert" });
    const same = await cli([
      "verify",
      path.join(split, "composition.json"),
      path.join(single, "composition.json"),
    ]);
    expect(same.stdout).toContain("OK: identical");
    // The two configs describe the same stores (paths differ only by the output folder).
    const norm = async (dir: string) =>
      (await readFile(path.join(dir, "composition.json"), "utf8")).split(dir).join("OUT");
    expect(JSON.parse(await norm(split))).toEqual(JSON.parse(await norm(single)));
  }, 180_000);

  it("a compact source stays compact: parts finalized as a single convert, --form expanded lists every store", async () => {
    // The Python original's expanded v2 config, made compact by a conversion.
    const source = path.join(work, "compact-src");
    const made = await cli([
      "convert",
      path.join(FIXTURES, "dot/config.json"),
      "--to",
      "dir",
      "--out",
      source,
      "--form",
      "compact",
      "--no-progress",
    ]);
    expect(made.code, made.stderr).toBe(0);
    const kwargs = async (dir: string) =>
      JSON.parse(await readFile(path.join(dir, "composition.json"), "utf8")).config.kwargs;
    const arrays = ["simulation/coarse/foo", "simulation/fine/foo"];
    const src = await kwargs(source);
    expect(Object.keys(src.array_shard_indices).sort()).toEqual(arrays);
    expect(Object.values(src.array_shards).every((m) => Object.keys(m as object).length === 0)).toBe(true);
    const config = path.join(source, "composition.json");
    const single = path.join(work, "compact-single");
    expect((await cli(["convert", config, "--to", "zip", "--out", single, "--no-progress"])).code).toBe(0);
    const split = path.join(work, "compact-split");
    for (const k of [1, 2]) {
      const r = await cli([
        "convert",
        config,
        "--to",
        "zip",
        "--out",
        split,
        "--part",
        `${k}/2`,
        "--no-progress",
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await cli(["finalize", split])).code).toBe(0);
    const [one, parts] = [await kwargs(single), await kwargs(split)];
    expect(one.array_shard_indices).toEqual(src.array_shard_indices);
    expect(one.array_shards).toEqual(src.array_shards);
    expect(parts.array_shard_indices).toEqual(src.array_shard_indices);
    expect(parts.array_shards).toEqual(src.array_shards);
    const expanded = path.join(work, "compact-expanded");
    expect(
      (
        await cli([
          "convert",
          config,
          "--to",
          "zip",
          "--out",
          expanded,
          "--form",
          "expanded",
          "--no-progress",
        ])
      ).code,
    ).toBe(0);
    const listed = await kwargs(expanded);
    expect(listed.array_shard_indices).toBeUndefined();
    expect(arrays.map((a) => Object.keys(listed.array_shards[a]).length)).toEqual([3, 18]);
    for (const dir of [split, expanded]) {
      const same = await cli([
        "verify",
        path.join(dir, "composition.json"),
        path.join(single, "composition.json"),
      ]);
      expect(same.stdout).toContain("OK: identical");
    }
  }, 180_000);

  it("reshard --part in 3 processes, finalized, equals a single-process reshard; an incomplete part is reported", async () => {
    const source = path.join(FIXTURES, "dot/single.zarr");
    const args = [
      "--group",
      "people",
      "--array",
      "simulation/coarse/foo:1",
      "--array",
      "simulation/fine/foo:2",
      "--shard-type",
      "zip",
    ];
    const single = path.join(work, "r-single");
    expect((await cli(["reshard", source, "--out", single, ...args, "--no-progress"])).code).toBe(0);
    const split = path.join(work, "r-split");
    const results = await Promise.all(
      [1, 2, 3].map((k) =>
        processCli(["reshard", source, "--out", split, ...args, "--part", `${k}/3`, "--json"]),
      ),
    );
    for (const r of results) expect(r.code).toBe(0);
    // A part that started and never finished (its manifest says so) stops finalize.
    const crashed = path.join(work, "r-crashed");
    await writeManifest(crashed, {
      command: "reshard",
      source,
      type: "zip",
      part: 2,
      of: 2,
      complete: false,
      groups: [],
      arrays: {},
      stores: [],
    });
    const bad = await cli(["finalize", crashed]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/missing part 1\/2; incomplete part 2\/2/);
    const fin = await cli(["finalize", split]);
    expect(fin.code).toBe(0);
    const same = await cli([
      "verify",
      path.join(split, "composition.json"),
      path.join(single, "composition.json"),
    ]);
    expect(same.stdout).toContain("OK: identical");
    expect(same.code).toBe(0);
    const vs = await cli(["verify", path.join(split, "composition.json"), source, "--arrays"]);
    expect(vs.stdout).toContain("13 arrays by value");
    const norm = async (dir: string) =>
      (await readFile(path.join(dir, "composition.json"), "utf8")).split(dir).join("OUT");
    expect(JSON.parse(await norm(split))).toEqual(JSON.parse(await norm(single)));
  }, 180_000);

  it("finalize without parts, or --part out of range, is a usage error", async () => {
    const none = await cli(["finalize", path.join(work, "nothing")]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no part manifests/);
    const bad = await cli([
      "convert",
      path.join(demo, "sharded/composition.json"),
      "--to",
      "zip",
      "--out",
      path.join(work, "x"),
      "--part",
      "4/3",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/K\/N with 1 ≤ K ≤ N/);
  });
});
