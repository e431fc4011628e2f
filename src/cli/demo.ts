import { mkdir, readdir, stat } from "node:fs/promises";
import * as path from "node:path";
import type { Command } from "commander";
import {
  arrayShardDirectoryStore,
  DirectoryStore,
  openShardedStore,
  ShardedStore,
  saveShardedStore,
} from "../node.js";
import { timed, withCommonOptions } from "./common.js";
import { compareStores } from "./compare.js";
import { convertComposition } from "./convert.js";
import { DEMO_ARRAY_SHARDS, DEMO_GROUP_SHARDS, writeDemoData } from "./demo-data.js";
import { CheckFailed } from "./errors.js";
import { CONFIG_NAME, dirPathFor, ensureEmpty, PREFIX_NAME } from "./layout.js";
import { formatBytes, formatDuration, plural, printJson, printLines, table } from "./output.js";
import { type CommonOptions, progressBar } from "./progress.js";
import { reportLines } from "./verify.js";

interface DemoOptions extends CommonOptions {
  out?: string;
}

/** Files and bytes on disk under `p` (a file counts as one). */
async function diskUsage(
  p: string,
  skip?: (name: string) => boolean,
): Promise<{ files: number; bytes: number }> {
  const st = await stat(p).catch(() => null);
  if (st === null) return { files: 0, bytes: 0 };
  if (!st.isDirectory()) return { files: 1, bytes: st.size };
  let files = 0;
  let bytes = 0;
  for (const name of await readdir(p)) {
    if (skip?.(name)) continue;
    const u = await diskUsage(path.join(p, name));
    files += u.files;
    bytes += u.bytes;
  }
  return { files, bytes };
}

/** `./shardedstore-demo`, or `-2`, `-3`… when that is taken. */
async function defaultOut(): Promise<string> {
  for (let i = 1; ; i++) {
    const p = path.resolve(i === 1 ? "shardedstore-demo" : `shardedstore-demo-${i}`);
    const entries = await readdir(p).catch(() => []);
    if (entries.length === 0) return p;
  }
}

/**
 * `shardedstore demo [--out DIR]`: the main job of the README, end to end — builds the original
 * README's example dataset with zarrita into a sharded composition of directory stores and into a
 * single directory store, converts the composition to zip shards, reopens it from its saved config
 * and verifies it reads identical to the single store.
 *
 * @example
 * ```ts
 * registerDemo(program); // shardedstore demo --out /tmp/demo
 * ```
 */
export function registerDemo(program: Command): void {
  withCommonOptions(
    program
      .command("demo")
      .description(
        "build the README's example dataset as a sharded composition and as one store, convert the composition to zips, reopen and verify",
      )
      .option("--out <dir>", "where to write (default: ./shardedstore-demo, or -2, -3… if taken)"),
  ).action(async (opts: DemoOptions) => {
    const out = opts.out !== undefined ? path.resolve(opts.out) : await defaultOut();
    await ensureEmpty(out, "--out");
    const shardedDir = path.join(out, "sharded");
    const zipDir = path.join(out, "zip");
    const singleDir = path.join(out, "single.zarr");
    await mkdir(shardedDir, { recursive: true });
    const steps: { step: string; ms: number; result: string }[] = [];

    const prefix = path.join(shardedDir, PREFIX_NAME);
    const [, writeMs] = await timed(async () => {
      const sharded = new ShardedStore(new DirectoryStore(dirPathFor(prefix, "")), {
        shards: Object.fromEntries(
          DEMO_GROUP_SHARDS.map((g) => [g, new DirectoryStore(dirPathFor(prefix, g))]),
        ),
        arrayShards: Object.fromEntries(
          Object.entries(DEMO_ARRAY_SHARDS).map(([p, dims]) => [
            p,
            { dims, factory: arrayShardDirectoryStore(path.join(prefix, p)) },
          ]),
        ),
      });
      await writeDemoData(sharded);
      await saveShardedStore(sharded, path.join(shardedDir, CONFIG_NAME));
    });
    const shardedConfig = path.join(shardedDir, CONFIG_NAME);
    const dirComposition = await openShardedStore(shardedConfig);
    const dirStores = (await dirComposition.shards()).length;
    steps.push({
      step: "write sharded composition (directories)",
      ms: writeMs,
      result: `${path.relative(out, shardedConfig)}: ${plural(dirStores, "store")}`,
    });

    const [, singleMs] = await timed(() => writeDemoData(new DirectoryStore(singleDir)));
    steps.push({ step: "write the same data to one directory store", ms: singleMs, result: "single.zarr" });

    const conv = await convertComposition(dirComposition, "zip", zipDir, opts);
    await conv.result.close();
    steps.push({
      step: "convert the composition to zip shards",
      ms: conv.ms,
      result: `${path.relative(out, conv.config)}: ${plural(conv.stores, "zip file")}`,
    });

    const bar = progressBar(opts, "verifying");
    const [cmp, verifyMs] = await timed(async () => {
      const reopened = await openShardedStore(conv.config);
      try {
        return await compareStores(reopened, new DirectoryStore(singleDir), {
          arrays: true,
          onKeys: (n) => bar.start(n),
          onKey: () => bar.increment(),
        });
      } finally {
        bar.stop();
        await reopened.close();
      }
    });
    steps.push({
      step: "reopen the zip composition from its config, compare with single.zarr",
      ms: verifyMs,
      result:
        cmp.differences === 0
          ? `identical: ${plural(cmp.keysA, "key")}, ${plural(cmp.arrays?.compared ?? 0, "array")} by value`
          : `FAILED: ${plural(cmp.differences, "difference")}`,
    });

    const skipConfig = (n: string) => n === CONFIG_NAME;
    const layouts = [
      { layout: "single.zarr (one directory store)", stores: 1, ...(await diskUsage(singleDir)) },
      {
        layout: "sharded/ (directory stores)",
        stores: dirStores,
        ...(await diskUsage(shardedDir, skipConfig)),
      },
      { layout: "zip/ (one zip per store)", stores: conv.stores, ...(await diskUsage(zipDir, skipConfig)) },
    ];
    if (opts.json) {
      await printJson({
        out,
        steps: steps.map((s) => ({ ...s, ms: Math.round(s.ms) })),
        layouts,
        configs: { sharded: shardedConfig, zip: conv.config },
        verify: {
          identical: cmp.differences === 0,
          keys: cmp.keysA,
          bytes: cmp.bytes,
          arrays: cmp.arrays?.compared ?? 0,
        },
      });
    } else {
      const rel = path.relative(process.cwd(), out) || ".";
      await printLines([
        `shardedstore demo: the README's example hierarchy (people, species, simulation/coarse, simulation/fine) in ${rel.startsWith("..") ? out : rel}`,
        "",
        ...table(
          [["step", "time", "result"], ...steps.map((s) => [s.step, formatDuration(s.ms), s.result])],
          [false, true, false],
        ).map((l) => `  ${l}`),
        "",
        ...table(
          [
            ["layout", "stores", "files", "bytes"],
            ...layouts.map((l) => [l.layout, String(l.stores), String(l.files), formatBytes(l.bytes)]),
          ],
          [false, true, true, true],
        ).map((l) => `  ${l}`),
        "",
        `  files (objects) before → after converting to zips: ${layouts[1]!.files} → ${layouts[2]!.files}`,
        ...reportLines(cmp, 20).map((l) => `  ${l}`),
        "",
        "Next:",
        `  shardedstore info ${path.join(rel, "zip", CONFIG_NAME)}`,
        `  shardedstore verify ${path.join(rel, "zip", CONFIG_NAME)} ${path.join(rel, "single.zarr")} --arrays`,
      ]);
    }
    if (cmp.differences > 0)
      throw new CheckFailed("the zip composition does not read identical to single.zarr");
  });
}
