import { existsSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// The suite Stryker runs for `npm run mutate`. Left out always: suites that drive the packed package,
// the built CLI or the browser bundle (they run dist/, so no src/ mutant can die there). Left out
// unless MUTATE_FULL=1: suites dominated by other processes (zarr-python config interop, s3rver); each
// Stryker run repeats the whole suite once and then the covering tests of every mutant.
const slow = process.env.MUTATE_FULL === "1" ? [] : ["tests/config-python.test.ts", "tests/s3-store.test.ts"];

// Stryker's sandbox is a copy without .venv (tensorstore) and dist/ (spawned by a few tests that also
// import src/): link them from the worktree scripts/mutate.mjs names in MUTATE_ROOT.
const root = process.env.MUTATE_ROOT;
if (root !== undefined && root !== process.cwd()) {
  for (const name of [".venv", "dist"]) {
    const here = join(process.cwd(), name);
    if (!existsSync(here) && existsSync(join(root, name))) {
      try {
        symlinkSync(join(root, name), here);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e; // another worker linked it first
      }
    }
  }
}

// `npm run mutate -- src/a.ts --tests "tests/a-*.test.ts"` (scripts/mutate.mjs) narrows the suite.
const only = (process.env.MUTATE_TESTS ?? "")
  .split(",")
  .map((t) => t.trim())
  .filter((t) => t !== "");

export default defineConfig({
  test: {
    include: only.length > 0 ? only : ["tests/**/*.test.ts"],
    exclude: [
      "tests/cli-*.test.ts",
      "tests/browser-*.test.ts",
      "tests/docs-examples.test.ts",
      "tests/hardening/confine-cli.test.ts",
      ...slow,
      "**/node_modules/**",
    ],
    // Under Stryker's coverage instrumentation on a busy machine the 65,535-entry ZIP64 test needs more.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
