import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Tests that take minutes run with `npm run test:slow` (.ci/run runs both).
    exclude: ["**/node_modules/**", ...(process.env.SHARDEDSTORE_SLOW ? [] : ["tests/slow/**"])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
