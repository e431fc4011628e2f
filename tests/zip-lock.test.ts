// One writer per archive, and no acknowledged write lost: real concurrent processes.
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, stat, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { isShardedStoreError, StoreError } from "../src/errors.js";
import { ZipStore } from "../src/zip-store-node.js";
import { listAll } from "./helpers/arrays.js";
import { tempDirPerFile, writeZip } from "./helpers/zip-fixtures.js";

const tmp = tempDirPerFile("ss-zip-lock-");
const text = (s: string) => new TextEncoder().encode(s);
const STORE = JSON.stringify(path.resolve("src/zip-store-node.ts"));

/** Writes a TypeScript module and runs it in a new Node process; `done` gives its exit code and stdout. */
async function spawnScript(
  name: string,
  script: string,
): Promise<{ proc: ChildProcess; done: Promise<{ code: number | null; out: string }> }> {
  const file = `${tmp.dir}/${name}.mts`;
  await writeFile(file, script);
  const proc = spawn(process.execPath, ["--import", "tsx", file], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    proc.on("exit", (code) => resolve({ code, out })),
  );
  return { proc, done };
}

describe("ZipStore: one writer per archive", () => {
  it("refuses a second writer in the same process, naming the archive and the lock; readers are not blocked", async () => {
    const file = `${tmp.dir}/same.zip`;
    await writeZip(file, { old: "1" });
    const a = new ZipStore(file, { mode: "a" });
    await a.set("/from-a", text("a"));
    for (const mode of ["w", "a"] as const) {
      const b = new ZipStore(file, { mode });
      const err = await b.set("/from-b", text("b")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(
        /^ZipStore\(.*same\.zip\): set "\/from-b" failed: another writer has the archive open \(lock .*same\.zip\.lock\); one writer at a time/,
      );
      await b.discard();
    }
    // A reader reads the archive as it was: the writer's session is not visible until close.
    const r = new ZipStore(file);
    expect(await listAll(r)).toEqual(["/old"]);
    await a.close();
    expect((await stat(`${file}.lock`).catch(() => null)) === null).toBe(true);
    // The lock is free again: a later writer appends to what the first one wrote.
    const c = new ZipStore(file, { mode: "a" });
    await c.set("/from-c", text("c"));
    await c.close();
    expect(await listAll(new ZipStore(file))).toEqual(["/from-a", "/from-c", "/old"]);
  });

  it("a second store that read the archive before another writer closed still keeps that writer's entries", async () => {
    const file = `${tmp.dir}/stale-reader.zip`;
    await writeZip(file, { old: "1" });
    const late = new ZipStore(file, { mode: "a" });
    expect(await listAll(late)).toEqual(["/old"]); // reads (and caches) the directory first
    const first = new ZipStore(file, { mode: "a" });
    await first.set("/first", text("1"));
    await first.close();
    await late.set("/late", text("2")); // its session starts from the archive as it is now
    await late.close();
    expect(await listAll(new ZipStore(file))).toEqual(["/first", "/late", "/old"]);
  });

  it("refuses set and delete once close() began; every set issued before it is in the archive", async () => {
    for (let round = 0; round < 10; round++) {
      const file = `${tmp.dir}/closing-${round}.zip`;
      const z = new ZipStore(file, { mode: "w" });
      const early = Array.from({ length: 50 }, (_, i) => z.set(`/k/${i}`, text(String(i))));
      const closing = z.close();
      const late = z.set("/late", text("x")).catch((e: unknown) => e);
      const lateDelete = z.delete("/k/0").catch((e: unknown) => e);
      await Promise.all(early);
      await closing;
      for (const e of [await late, await lateDelete]) {
        expect(isShardedStoreError(e, "StoreError")).toBe(true);
        expect((e as Error).message).toMatch(
          /closing-\d+\.zip\): (set "\/late"|delete "\/k\/0") failed: close\(\) has begun/,
        );
      }
      const keys = await listAll(new ZipStore(file));
      expect(keys.length).toBe(50);
      expect(keys).not.toContain("/late");
    }
  });

  it("4 processes writing one archive: one wins, the others are refused at their first write, nothing acknowledged is lost", async () => {
    for (const mode of ["w", "a"]) {
      const file = `${tmp.dir}/race-${mode}.zip`;
      const go = `${tmp.dir}/go-${mode}`;
      const runs = await Promise.all(
        [0, 1, 2, 3].map((id) =>
          spawnScript(
            `race-${mode}-${id}`,
            `
            import { existsSync, readdirSync, writeFileSync } from "node:fs";
            import { ZipStore } from ${STORE};
            const dir = ${JSON.stringify(tmp.dir)};
            writeFileSync(dir + "/ready-${mode}-${id}", "");
            while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 5));
            const z = new ZipStore(${JSON.stringify(file)}, { mode: ${JSON.stringify(mode)} });
            const tried = () => writeFileSync(dir + "/tried-${mode}-${id}", "");
            let acked = 0;
            try {
              await z.set("/w${id}/0", new Uint8Array([${id}]));
              acked++;
              tried();
              // Hold the archive until every process has tried its first write.
              while (readdirSync(dir).filter((f) => f.startsWith("tried-${mode}-")).length < 4)
                await new Promise((r) => setTimeout(r, 10));
              await Promise.all(Array.from({ length: 31 }, (_, i) => z.set("/w${id}/" + (i + 1), new Uint8Array([${id}])).then(() => acked++)));
              await z.close();
              console.log("won " + acked);
            } catch (e) {
              tried();
              console.log("refused " + acked + " " + e.message);
              await z.discard();
            }
          `,
          ),
        ),
      );
      // Every child is up and waiting for the go.
      while ((await readdir(tmp.dir)).filter((f) => f.startsWith(`ready-${mode}-`)).length < 4)
        await new Promise((r) => setTimeout(r, 20));
      await writeFile(go, "");
      const results = await Promise.all(runs.map((r) => r.done));
      for (const r of results) expect(r.code).toBe(0);
      const won = results.filter((r) => r.out.startsWith("won 32"));
      const refused = results.filter((r) => r.out.startsWith("refused 0 "));
      expect(won.length).toBe(1);
      expect(refused.length).toBe(3);
      for (const r of refused)
        expect(r.out).toMatch(/another writer has the archive open \(lock .*race-[wa]\.zip\.lock\)/);
      const winner = results.indexOf(won[0]!);
      const keys = await listAll(new ZipStore(file));
      expect(keys.length).toBe(32);
      expect(keys.every((k) => k.startsWith(`/w${winner}/`))).toBe(true);
    }
  }, 120_000);

  it("4 processes appending to one archive, each retrying while refused: all 4 × 32 writes are in it", async () => {
    const file = `${tmp.dir}/append-all.zip`;
    await writeZip(file, { base: "0" });
    const runs = await Promise.all(
      [0, 1, 2, 3].map((id) =>
        spawnScript(
          `append-${id}`,
          `
          import { ZipStore } from ${STORE};
          for (let attempt = 0; ; attempt++) {
            const z = new ZipStore(${JSON.stringify(file)}, { mode: "a" });
            try {
              await Promise.all(Array.from({ length: 32 }, (_, i) => z.set("/p${id}/" + i, new Uint8Array([${id}]))));
              await z.close();
              console.log("done");
              break;
            } catch (e) {
              await z.discard();
              if (!/another writer/.test(e.message) || attempt > 400) throw e;
              await new Promise((r) => setTimeout(r, 20 + Math.random() * 50));
            }
          }
        `,
        ),
      ),
    );
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) expect(r.out.trim()).toBe("done");
    const keys = await listAll(new ZipStore(file));
    expect(keys.length).toBe(1 + 4 * 32);
    for (const id of [0, 1, 2, 3]) expect(keys.filter((k) => k.startsWith(`/p${id}/`)).length).toBe(32);
  }, 120_000);

  it("a SIGKILLed writer's lock refuses the next writer, then expires (after lockStaleMs)", async () => {
    const file = `${tmp.dir}/killed.zip`;
    await writeZip(file, { keep: "me" });
    const { proc, done } = await spawnScript(
      "killed",
      `
      import { ZipStore } from ${STORE};
      const z = new ZipStore(${JSON.stringify(file)}, { mode: "a", lockStaleMs: 4000 });
      await z.set("/never", new Uint8Array(10));
      console.log("locked");
      await new Promise((r) => setTimeout(r, 60_000));
    `,
    );
    await new Promise<void>((resolve) => {
      proc.stdout!.on("data", (d: Buffer) => {
        if (d.toString().includes("locked")) resolve();
      });
    });
    proc.kill("SIGKILL");
    await done;
    const next = () => new ZipStore(file, { mode: "a", lockStaleMs: 4000 });
    const first = next();
    await expect(first.set("/after", text("1"))).rejects.toThrow(
      /lock .*killed\.zip\.lock.*expires after 4 s/,
    );
    // Poll until the stale lock is taken over; bounded, so a lock that never expires fails the test.
    let written = false;
    for (let i = 0; i < 80 && !written; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const z = next();
      try {
        await z.set("/after", text("1"));
        await z.close();
        written = true;
      } catch (e) {
        expect((e as Error).message).toMatch(/another writer/);
        await z.discard();
      }
    }
    expect(written).toBe(true);
    // The killed session's writes never reached the archive; the previous entries are all there.
    expect(await listAll(new ZipStore(file))).toEqual(["/after", "/keep"]);
    expect((await readdir(tmp.dir)).filter((f) => f.startsWith("killed.zip.lock"))).toEqual([]);
  }, 60_000);
});
