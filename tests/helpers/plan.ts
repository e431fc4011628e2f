import { readdir, stat } from "node:fs/promises";
import * as path from "node:path";
import { expect } from "vitest";
import { cli } from "./cli-in-process.js";

/**
 * Files under `dir` (every object of a directory layout) and the largest; `skip` names a file
 * left out (e.g. the composition config).
 */
export async function objects(dir: string, skip?: string): Promise<{ count: number; largest: number }> {
  let count = 0;
  let largest = 0;
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!ent.isFile() || ent.name === skip) continue;
    count++;
    largest = Math.max(largest, (await stat(path.join(ent.parentPath, ent.name))).size);
  }
  return { count, largest };
}

/** `plan … --json --apply` in this process; expects success and returns the plan. */
export async function planAndApply(source: string, out: string, limits: string[]) {
  const r = await cli(["plan", source, "--out", out, ...limits, "--json", "--apply"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  // The plan is the first JSON document; the applied commands print theirs after it.
  const end = r.stdout.indexOf("\n}\n") + 2;
  return JSON.parse(r.stdout.slice(0, end)) as {
    meets: boolean;
    after: { objects: number; largest: number };
    choices: { what: string; path: string; why: string }[];
    commands: string[][];
  };
}
