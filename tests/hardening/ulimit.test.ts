// Descriptors are bounded: a composition of more zip shards than the process may open at once is
// listed, read, verified, converted and merged by every command under `ulimit -n 256`.
import { spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { arrayShardZipStore, DirectoryStore, ShardedStore, saveShardedStore } from "../../src/node.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const LIMIT = 256;
const ROWS = 600; // index stores, well above the limit
const COLS = 6;

let work: string;
let config: string;
let single: string;

/** Runs node with the descriptor limit lowered in a shell first. */
function limited(args: string[], cwd = work) {
  const cmd = `ulimit -n ${LIMIT}; exec node ${args.map((a) => JSON.stringify(a)).join(" ")}`;
  const r = spawnSync("bash", ["-c", cmd], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const expected = (i: number, j: number) => (i * 7 + j * 3) % 251;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "ss-ulimit-"));
  single = path.join(work, "single.zarr");
  const sharded = new ShardedStore(new DirectoryStore(path.join(work, "base.zarr")), {
    arrayShards: { a: { dims: 1, factory: arrayShardZipStore(path.join(work, "a")) } },
  });
  const data = new Uint8Array(ROWS * COLS);
  for (let i = 0; i < ROWS; i++) for (let j = 0; j < COLS; j++) data[i * COLS + j] = expected(i, j);
  for (const store of [sharded, new DirectoryStore(single)]) {
    const root = await zarr.create(zarr.root(store));
    const arr = await zarr.create(root.resolve("a"), {
      shape: [ROWS, COLS],
      chunkShape: [1, COLS],
      dtype: "uint8",
    });
    await zarr.set(arr, null, { data, shape: [ROWS, COLS], stride: [COLS, 1] });
  }
  config = path.join(work, "composition.json");
  await saveShardedStore(sharded, config);
  await sharded.close();
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe(`a composition of ${ROWS} zip shards under ulimit -n ${LIMIT}`, () => {
  it("info, ls and cat succeed", () => {
    const info = limited([CLI, "info", "--json", config]);
    expect(info.stderr).toBe("");
    expect(info.code).toBe(0);
    const ls = limited([CLI, "ls", config]);
    expect(ls.code).toBe(0);
    const keys = ls.stdout.trim().split("\n");
    // root zarr.json, a/zarr.json and one chunk per row
    expect(keys.length).toBe(ROWS + 2);
    const cat = spawnSync("bash", [
      "-c",
      `ulimit -n ${LIMIT}; exec node ${CLI} cat ${config} a/c/${ROWS - 1}/0`,
    ]);
    expect(cat.status).toBe(0);
    expect([...cat.stdout]).toEqual(Array.from({ length: COLS }, (_, j) => expected(ROWS - 1, j)));
  }, 120_000);

  it("verify against one directory store finds them identical", () => {
    const r = limited([CLI, "verify", "--arrays", config, single]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  }, 120_000);

  it("convert to directories, back to zips (and resumed), and merge", () => {
    const dirs = path.join(work, "as-dirs");
    expect(limited([CLI, "convert", config, "--to", "dir", "--out", dirs]).code).toBe(0);
    const zips = path.join(work, "as-zips");
    const dirConfig = path.join(dirs, "composition.json");
    expect(limited([CLI, "convert", dirConfig, "--to", "zip", "--out", zips]).code).toBe(0);
    const resumed = limited([CLI, "convert", dirConfig, "--to", "zip", "--out", zips]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const merged = path.join(work, "merged.zarr.zip");
    expect(limited([CLI, "merge", path.join(zips, "composition.json"), "--out", merged]).code).toBe(0);
    const v = limited([CLI, "verify", merged, single]);
    expect(v.code).toBe(0);
  }, 300_000);

  it("zarrita reads every chunk at once, equal to the source", async () => {
    // Inside the repository, so "zarrita" resolves from its node_modules.
    const repo = fileURLToPath(new URL("../..", import.meta.url));
    await mkdir(path.join(repo, ".tmp"), { recursive: true });
    const script = path.join(repo, ".tmp", `ulimit-read-${process.pid}.mjs`);
    await writeFile(
      script,
      `import * as zarr from "zarrita";
import { openShardedStore } from ${JSON.stringify(fileURLToPath(new URL("../../dist/node.js", import.meta.url)))};
const store = await openShardedStore(${JSON.stringify(config)});
const arr = await zarr.open(zarr.root(store).resolve("a"), { kind: "array" });
const got = await zarr.get(arr);
let sum = 0;
for (const v of got.data) sum += v;
await store.close();
console.log(JSON.stringify({ length: got.data.length, sum }));
`,
    );
    const r = limited([script]);
    await rm(script, { force: true });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    let sum = 0;
    for (let i = 0; i < ROWS; i++) for (let j = 0; j < COLS; j++) sum += expected(i, j);
    expect(JSON.parse(r.stdout)).toEqual({ length: ROWS * COLS, sum });
  }, 120_000);
});
