#!/usr/bin/env node
// The `shardedstore` command. A CommonJS entry so that it runs before Node's thread pool starts
// (the ES module loader starts it): a conversion waits on one fsync per store written, each for a
// journal commit, and Node's default of 4 threads would let only 4 wait at once while the others
// queue. More threads overlap them: `npm run bench:convert`. A size set by the user is kept.
process.env.UV_THREADPOOL_SIZE ??= "64";
import("./main.js").then(
  async ({ run }) => {
    process.exitCode = await run(process.argv);
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
