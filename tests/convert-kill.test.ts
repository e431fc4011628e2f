// `shardedstore convert` killed with SIGKILL at random points, several times in a row, then run to
// the end: every store under its final name is always complete and equal to its source, and the
// finished composition reads exactly like the source. Both directions (directories → zips → directories).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dirPathFor } from "../src/cli/layout.js";
import {
  arrayShardDirectoryStore,
  DirectoryStore,
  openShardedStore,
  ShardedStore,
  saveShardedStore,
  ZipStore,
  zipPathFor,
} from "../src/node.js";
import { storeContents } from "./helpers/store-contents.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GRID = [8, 10] as const; // 80 index stores
const ROUNDS = 3;

/** A small seeded generator (mulberry32), so a failing run can be repeated from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const json = (o: unknown) => `${JSON.stringify(o)}\n`;

/** Base, one group shard and GRID index stores, every chunk different; saved as `src/composition.json`. */
async function buildSource(dir: string): Promise<string> {
  const [n0, n1] = GRID;
  await mkdir(path.join(dir, "base.zarr/a"), { recursive: true });
  await writeFile(path.join(dir, "base.zarr/.zgroup"), json({ zarr_format: 2 }));
  const meta = (shape: number[], chunks: number[]) =>
    json({
      zarr_format: 2,
      shape,
      chunks,
      dtype: "|u1",
      compressor: null,
      fill_value: 0,
      filters: null,
      order: "C",
      dimension_separator: ".",
    });
  await writeFile(path.join(dir, "base.zarr/a/.zarray"), meta([n0, n1, 8], [1, 1, 4]));
  await mkdir(path.join(dir, "group.zarr"), { recursive: true });
  await writeFile(path.join(dir, "group.zarr/.zgroup"), json({ zarr_format: 2 }));
  await writeFile(path.join(dir, "group.zarr/.zattrs"), json({ note: "a group shard" }));
  for (let i = 0; i < n0; i++) {
    for (let j = 0; j < n1; j++) {
      const s = path.join(dir, `a/${i}/${j}.zarr`);
      await mkdir(s, { recursive: true });
      await writeFile(path.join(s, ".zarray"), meta([8], [4]));
      // Two chunks per index store, each naming its store.
      for (const c of [0, 1])
        await writeFile(
          path.join(s, String(c)),
          Uint8Array.from({ length: 4 }, (_, k) => (i * 31 + j * 7 + c * 3 + k) & 255),
        );
    }
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

/** The stores of a converted output folder that count as finished: the path each source store becomes. */
function outputPath(to: "zip" | "dir", out: string, mount: string, index?: readonly number[]): string {
  const prefix = path.join(out, "data");
  return to === "zip" ? zipPathFor(prefix, mount, index) : dirPathFor(prefix, mount, index);
}

/** How many stores are finished in `out` (final names only; temporary files and folders do not count). */
async function finished(to: "zip" | "dir", out: string): Promise<number> {
  const names = await readdir(out, { recursive: true }).catch(() => [] as string[]);
  const suffix = to === "zip" ? ".zarr.zip" : ".zarr";
  return names.filter((n) => String(n).endsWith(suffix) && !String(n).includes(".~")).length;
}

/** Runs `convert` from the sources; kills it with SIGKILL once `killAfter` stores are finished (plus a random pause). */
async function convert(
  config: string,
  to: "zip" | "dir",
  out: string,
  concurrency: number,
  kill: { after: number; pauseMs: number } | null,
): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(ROOT, "src/cli/main.ts"),
      "convert",
      config,
      "--to",
      to,
      "--out",
      out,
      "--concurrency",
      String(concurrency),
      "--no-progress",
    ],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let killed = false;
  let running = true;
  void exited.then(() => {
    running = false;
  });
  if (kill !== null) {
    while (running && (await finished(to, out)) < kill.after) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, kill.pauseMs));
    if (running) killed = child.kill("SIGKILL");
  }
  const code = await exited;
  return { killed, code, stderr };
}

/** Every store of `source` that has a finished output in `out` reads exactly like its source. */
async function checkFinished(
  source: ShardedStore,
  to: "zip" | "dir",
  out: string,
  why: string,
): Promise<number> {
  let n = 0;
  for (const e of await source.shards()) {
    const where = outputPath(to, out, e.mount, e.index);
    if (!existsSync(where)) continue;
    const store = to === "zip" ? new ZipStore(where) : new DirectoryStore(where);
    try {
      expect(await storeContents(store), `${why}: ${where}`).toEqual(await storeContents(e.store));
    } finally {
      await store.close();
    }
    n++;
  }
  return n;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "convert-kill-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("convert killed with SIGKILL at random points", () => {
  it("resumes to a composition equal to the source, directories → zips → directories", async () => {
    const seed = Date.now() % 2 ** 31;
    const rnd = random(seed);
    const config = await buildSource(path.join(work, "src"));
    const stores = GRID[0] * GRID[1] + 2;
    let source = config;
    for (const to of ["zip", "dir"] as const) {
      const out = path.join(work, `to-${to}`);
      const src = await openShardedStore(source);
      let kills = 0;
      let before = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const after = before + Math.floor(rnd() * ((stores - before) / 2));
        const concurrency = [1, 4, 16, 64, 256][Math.floor(rnd() * 5)]!;
        const pauseMs = Math.floor(rnd() * 20);
        const why = `seed ${seed}, ${to} round ${round} (kill after ${after} stores + ${pauseMs} ms, concurrency ${concurrency})`;
        const r = await convert(source, to, out, concurrency, { after, pauseMs });
        if (r.killed) kills++;
        else expect(r.code, `${why}: ${r.stderr}`).toBe(0);
        // Whatever was finished is whole and equal to its source, and stays finished.
        const done = await checkFinished(src, to, out, why);
        // The composition config is written only after every store (a kill may land after it).
        if (existsSync(path.join(out, "composition.json"))) expect(done, why).toBe(stores);
        expect(done, why).toBeGreaterThanOrEqual(before);
        before = done;
        if (!r.killed) break;
      }
      expect(kills, `seed ${seed}: no run of ${to} was killed`).toBeGreaterThan(0);
      const last = await convert(source, to, out, 4, null);
      expect(last.code, `seed ${seed}: ${last.stderr}`).toBe(0);
      expect(await checkFinished(src, to, out, `seed ${seed}, ${to} finished`)).toBe(stores);
      const result = await openShardedStore(path.join(out, "composition.json"));
      expect(await storeContents(result), `seed ${seed}: ${to} result`).toEqual(await storeContents(src));
      await result.close();
      await src.close();
      source = path.join(out, "composition.json");
    }
  }, 300_000);
});
