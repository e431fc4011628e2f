import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryStore } from "../src/directory-store.js";
import type { AbsolutePath } from "../src/types.js";
import { listAll } from "./helpers/arrays.js";
import { python } from "./helpers/python.js";

const SEED = new URL("./fixtures/python-seed/", import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-dir-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("DirectoryStore", () => {
  it("uses zarr-python's layout: zarr-python reads what we write, equal to values.json", async () => {
    const src = new DirectoryStore(`${SEED}dot/single.zarr`);
    const dst = new DirectoryStore(`${dir}/copy.zarr`);
    for (const k of await listAll(src)) await dst.set(k as AbsolutePath, (await src.get(k as AbsolutePath))!);
    const out = await python(
      `import sys, json, zarr
g = zarr.open_group(zarr.DirectoryStore(sys.argv[1]), mode='r')
print(json.dumps({k: g[k][...].tolist() for k in ['observations/stations/temperature', 'simulation/fine/foo', 'people']}))`,
      `${dir}/copy.zarr`,
    );
    const values = JSON.parse(readFileSync(`${SEED}dot/values.json`, "utf8"));
    const got = JSON.parse(out);
    for (const k of Object.keys(got)) expect(got[k], k).toEqual(values[k].values);
    expect(readFileSync(`${dir}/copy.zarr/simulation/fine/foo/.zarray`, "utf8")).toContain(
      '"dimension_separator": "."',
    );
  });

  it("a reader never sees a half-written value while it is being overwritten", async () => {
    const s = new DirectoryStore(`${dir}/atomic`);
    const a = new Uint8Array(4 << 20).fill(1);
    const b = new Uint8Array(4 << 20).fill(2);
    await s.set("/big", a);
    const seen = new Set<string>();
    const reads: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      const w = s.set("/big", i % 2 ? a : b);
      reads.push(
        s.get("/big").then((v) => {
          seen.add(`${v?.length}:${v?.[0]}:${v?.[v.length - 1]}`);
        }),
      );
      await w;
    }
    await Promise.all(reads);
    for (const v of seen) expect(["4194304:1:1", "4194304:2:2"]).toContain(v);
  });

  it("leaves no temporary files behind and never lists one", async () => {
    const s = new DirectoryStore(`${dir}/tmpfiles`);
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.set(`/a/${i % 3}`, new Uint8Array([i]))));
    expect(await readdir(`${dir}/tmpfiles/a`)).toEqual(["0", "1", "2"]);
    await writeFile(`${dir}/tmpfiles/a/.~ss-0.deadbeef`, "left by a crash");
    expect(await listAll(s)).toEqual(["/a/0", "/a/1", "/a/2"]);
    await expect(s.set("/a/.~ss-0.deadbeef", new Uint8Array(1))).rejects.toThrow(
      /reserved for temporary files/,
    );
  });

  it("rejects escaping keys before touching the disk, naming the store", async () => {
    const s = new DirectoryStore(`${dir}/never-created`);
    await expect(s.set("/../escaped", new Uint8Array(1))).rejects.toThrow(
      /DirectoryStore\(.*never-created\).*"\/\.\.\/escaped"/,
    );
    await expect(readdir(`${dir}/never-created`)).rejects.toThrow(/ENOENT/);
    await expect(readdir(dir)).resolves.not.toContain("escaped");
  });

  it("reads through a symlinked file and lists it as a key", async () => {
    const s = new DirectoryStore(`${dir}/links`);
    await s.set("/real", new Uint8Array([5]));
    await symlink(`${dir}/links/real`, `${dir}/links/alias`);
    expect(await s.get("/alias")).toEqual(new Uint8Array([5]));
    expect(await listAll(s)).toEqual(["/alias", "/real"]);
  });

  it("returns undefined for a key whose parent is a file, and for a directory", async () => {
    const s = new DirectoryStore(`${dir}/shapes`);
    await s.set("/a/b", new Uint8Array([1]));
    expect(await s.get("/a/b/c")).toBeUndefined();
    expect(await s.get("/a")).toBeUndefined();
    expect(await s.getRange("/a", { offset: 0, length: 1 })).toBeUndefined();
  });

  it("wraps other I/O failures in StoreError naming the store and key", async () => {
    const s = new DirectoryStore(`${dir}/errs`);
    await s.set("/file", new Uint8Array([1]));
    // Writing below a regular file cannot succeed: the parent is not a directory.
    await expect(s.set("/file/child", new Uint8Array([1]))).rejects.toThrow(
      /DirectoryStore\(.*errs\): set "\/file\/child" failed/,
    );
  });
});
