// Group commit of new files (src/durable-files.ts): a round's files made durable by one filesystem
// sync (`sync -f`) or an fsync each, renamed only afterwards. A failing `sync` (a real program first
// on PATH that exits 1) is an error for every file of its round, and nothing is renamed: a
// conversion records no progress. A missing `sync` means an fsync per file.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { AbsolutePath } from "../src/types.js";
import { cli } from "./helpers/cli-in-process.js";

let work: string;
const PATH = process.env.PATH;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "durable-files-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
afterEach(() => {
  process.env.PATH = PATH;
  vi.resetModules();
});

/** The module afresh (what it learned of `sync` forgotten). */
const fresh = async () =>
  (await import("../src/durable-files.js")) as typeof import("../src/durable-files.js");

/** A folder holding a `sync` program that prints `message` and exits 1. */
function failingSync(message: string): string {
  const bin = path.join(work, `bin-${Math.random().toString(36).slice(2)}`);
  mkdirSync(bin, { recursive: true });
  const file = path.join(bin, "sync");
  writeFileSync(file, `#!/bin/sh\necho ${JSON.stringify(message)} >&2\nexit 1\n`);
  chmodSync(file, 0o755);
  return bin;
}

/** `count` temporary files spread over `folders` folders, each with its own bytes. */
async function temporaries(root: string, count: number, folders: number) {
  const out: { tmp: string; file: string; bytes: string }[] = [];
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `f${i % folders}`);
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.~ss-${i}.tmp`);
    const bytes = `file ${i} ${"x".repeat(i % 7)}`;
    await writeFile(tmp, bytes);
    out.push({ tmp, file: path.join(dir, `${i}.zarr.zip`), bytes });
  }
  return out;
}

describe("commitFile", () => {
  it("renames every file of concurrent rounds of any size into place with its bytes, no temporary file left", async () => {
    const { commitFile, SYNCFS_FROM } = await fresh();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: SYNCFS_FROM * 3 }),
        fc.integer({ min: 1, max: 5 }),
        async (n, folders) => {
          const root = path.join(work, `ok-${run++}`);
          const files = await temporaries(root, n, folders);
          await Promise.all(files.map((f) => commitFile(f.tmp, f.file)));
          for (const f of files) {
            expect(readFileSync(f.file, "utf8")).toBe(f.bytes);
            expect(existsSync(f.tmp)).toBe(false);
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it("a failing `sync -f` rejects every file of its round with the command's message; nothing is renamed, no temporary left", async () => {
    const { commitFile, SYNCFS_FROM } = await fresh();
    process.env.PATH = `${failingSync("sync: error syncing: Input/output error")}${path.delimiter}${PATH}`;
    const root = path.join(work, "failing");
    const files = await temporaries(root, SYNCFS_FROM * 2, 3);
    const results = await Promise.allSettled(files.map((f) => commitFile(f.tmp, f.file)));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    const reason = (results[0] as PromiseRejectedResult).reason as Error;
    expect(reason.name).toBe("StoreError");
    expect(reason.message).toMatch(/sync -f\) failed: sync: error syncing: Input\/output error/);
    expect(reason.message).toContain(path.join(root, "f"));
    for (const d of await readdir(root)) expect(await readdir(path.join(root, d))).toEqual([]);
  });

  it("without a `sync` command, an fsync per file: every file still lands", async () => {
    const { commitFile, SYNCFS_FROM } = await fresh();
    process.env.PATH = path.join(work, "no-such-bin");
    const files = await temporaries(path.join(work, "no-sync"), SYNCFS_FROM + 5, 2);
    await Promise.all(files.map((f) => commitFile(f.tmp, f.file)));
    for (const f of files) expect(readFileSync(f.file, "utf8")).toBe(f.bytes);
  });

  it("a `sync` without -f (checked once, on first use) means an fsync per file: every file still lands", async () => {
    const { commitFile, SYNCFS_FROM } = await fresh();
    process.env.PATH = `${failingSync("sync: invalid option -- 'f'")}${path.delimiter}${PATH}`;
    for (const round of [0, 1]) {
      const files = await temporaries(path.join(work, `old-sync-${round}`), SYNCFS_FROM + 5, 2);
      await Promise.all(files.map((f) => commitFile(f.tmp, f.file)));
      for (const f of files) expect(readFileSync(f.file, "utf8")).toBe(f.bytes);
    }
  });

  it("a rename that fails rejects that file only, naming it", async () => {
    const { commitFile } = await fresh();
    const files = await temporaries(path.join(work, "one-bad"), 3, 1);
    // The target is a non-empty folder: rename(2) refuses to replace it.
    await mkdir(path.join(files[1]!.file, "inside"), { recursive: true });
    const results = await Promise.allSettled(files.map((f) => commitFile(f.tmp, f.file)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain(files[1]!.file);
    expect(existsSync(files[1]!.tmp)).toBe(false);
  });
});

describe("convert --to zip with a failing `sync -f`", () => {
  it("fails with a clear error, and records no progress: no zip under its final name, no config", async () => {
    const { SYNCFS_FROM } = await fresh();
    const src = path.join(work, "src");
    const n = SYNCFS_FROM * 2;
    await mkdir(path.join(src, "base.zarr/a"), { recursive: true });
    await writeFile(path.join(src, "base.zarr/.zgroup"), `${JSON.stringify({ zarr_format: 2 })}\n`);
    const zarray = (shape: number[], chunks: number[]) =>
      `${JSON.stringify({ zarr_format: 2, shape, chunks, dtype: "|u1", compressor: null, fill_value: 0, filters: null, order: "C", dimension_separator: "." })}\n`;
    await writeFile(path.join(src, "base.zarr/a/.zarray"), zarray([n, 4], [1, 4]));
    for (let i = 0; i < n; i++) {
      const s = path.join(src, `a/${i}.zarr`);
      await mkdir(s, { recursive: true });
      await writeFile(path.join(s, ".zarray"), zarray([4], [4]));
      await writeFile(path.join(s, "0"), Uint8Array.of(i, 1, 2, 3));
    }
    const { ShardedStore, DirectoryStore, arrayShardDirectoryStore, saveShardedStore, ZipStore } =
      await import("../src/node.js");
    const store = new ShardedStore(new DirectoryStore(path.join(src, "base.zarr")), {
      arrayShards: { a: { dims: 1, factory: arrayShardDirectoryStore(path.join(src, "a")) } },
    });
    const config = path.join(src, "composition.json");
    await saveShardedStore(store, config, { form: "expanded" });
    process.env.PATH = `${failingSync("sync: error syncing: No space left on device")}${path.delimiter}${PATH}`;
    const out = path.join(work, "out");
    const r = await cli([
      "convert",
      config,
      "--to",
      "zip",
      "--out",
      out,
      "--no-progress",
      "--concurrency",
      String(n),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/sync -f\) failed: sync: error syncing: No space left on device/);
    expect(r.stderr.length).toBeLessThan(2000);
    const names = (await readdir(out, { recursive: true })).map(String);
    expect(names.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(names).not.toContain("composition.json");
    // The stores of the failed round are not under their final names (a small round before it,
    // made durable by an fsync each, may have landed); those that landed are whole.
    const landed = names.filter(
      (f) => f.startsWith(`data${path.sep}a${path.sep}`) && f.endsWith(".zarr.zip"),
    );
    expect(landed.length).toBeLessThanOrEqual(n - SYNCFS_FROM);
    for (const f of landed) {
      const i = Number(path.basename(f, ".zarr.zip"));
      const zip = new ZipStore(path.join(out, f));
      expect(await zip.get("/0" as AbsolutePath)).toEqual(Uint8Array.of(i, 1, 2, 3));
      await zip.close();
    }
    // With a working `sync`, the rerun converts everything.
    process.env.PATH = PATH;
    const again = await cli(["convert", config, "--to", "zip", "--out", out, "--no-progress", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    const before = names.filter((f) => f.endsWith(".zarr.zip")).length;
    expect(JSON.parse(again.stdout)).toMatchObject({
      stores: n + 1,
      converted: n + 1 - before,
      skipped: before,
    });
  });
});
