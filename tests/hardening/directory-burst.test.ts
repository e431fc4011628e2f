import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const CHILD = new URL("./fixtures/directory-burst.ts", import.meta.url).pathname;
const N = 10_000;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "ss-burst-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** Runs the child under `ulimit -n 256`; `limit` overrides DirectoryStore.maxOpenFiles. */
async function burst(
  dir: string,
  limit = "",
): Promise<{ ok: boolean; bad?: number; listed?: number; error?: string }> {
  const { stdout } = await run(
    "bash",
    ["-c", 'ulimit -n 256 && exec node --import tsx "$@"', "burst", CHILD, dir, String(N), limit],
    { maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split("\n").pop() as string);
}

describe("DirectoryStore under zarrita-like request bursts", () => {
  it("10k concurrent sets, gets and range reads succeed under ulimit -n 256", async () => {
    const r = await burst(path.join(tmp, "bounded"));
    expect(r).toEqual({ ok: true, bad: 0, listed: N });
  }, 120_000);

  it("the same burst with the bound lifted fails with EMFILE (the ulimit is real)", async () => {
    const r = await burst(path.join(tmp, "unbounded"), "1000000");
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/EMFILE/);
  }, 120_000);
});
