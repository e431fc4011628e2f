// Stryker configuration for `npm run mutate` (scripts/mutate.mjs). Not part of `npm test`.
// scripts/mutate.mjs gives each run its own folder, so two runs (different files) can overlap.
const out = process.env.MUTATE_OUT ?? ".tmp/mutation";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutate.config.ts", related: true },
  coverageAnalysis: "perTest",
  checkers: [],
  mutate: [
    "src/router.ts",
    "src/chunk-key.ts",
    "src/keys.ts",
    "src/array-metadata.ts",
    "src/range.ts",
    "src/zip-format.ts",
    "src/sharded-store.ts",
    "src/array-shards.ts",
    "src/index-stores.ts",
    "src/array-keys.ts",
    "src/route-memo.ts",
    "src/store-call.ts",
    "src/config/paths.ts",
  ],
  // The machine is shared: one or two workers at most (override with --concurrency).
  concurrency: 1,
  timeoutMS: 60_000,
  dryRunTimeoutMinutes: 30,
  reporters: ["json", "clear-text", "progress"],
  jsonReporter: { fileName: `${out}/report.json` },
  tempDirName: `${out}/sandbox`,
  cleanTempDir: "always",
  incremental: false,
  ignorePatterns: ["dist", ".tmp", "coverage", "shardedstore-demo*", "*.tgz", ".venv"],
};
