import * as path from "node:path";
import { type Command, InvalidArgumentError, Option } from "commander";
import { inspectStore } from "../plan/inspect.js";
import { type Plan, planLayout } from "../plan/plan.js";
import { positiveInt, withCommonOptions } from "./common.js";
import { CheckFailed } from "./errors.js";
import { inventory, sizeOf } from "./hierarchy.js";
import { closeSource, openSource } from "./open.js";
import { formatBytes, plural, printJson, printLines } from "./output.js";
import type { CommonOptions } from "./progress.js";

interface PlanOptions extends CommonOptions {
  maxObjects: number;
  maxObjectBytes: number;
  target: "dir" | "zip" | "s3";
  out: string;
  apply?: boolean;
}

/**
 * Parses a byte count with an optional unit: `1048576`, `64M`, `64MiB`, `2G`, `512k`.
 *
 * @example
 * ```ts
 * parseBytes("64MiB"); // 67108864
 * ```
 */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(value.trim());
  if (m === null) throw new InvalidArgumentError("must be a byte count such as 1048576, 64M or 2GiB.");
  const scale = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase()] ?? 1;
  const n = Math.floor(Number(m[1]) * scale);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive byte count.");
  return n;
}

/** Quotes an argument for a POSIX shell when it needs it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

function describe(plan: Plan, source: string): string[] {
  const l = plan.limits;
  const lines = [
    `Plan for ${source} (target ${l.target}: ≤ ${l.maxObjects} objects, each ≤ ${formatBytes(l.maxObjectBytes)})`,
    `  before: ${plural(plan.before.objects, "object")}, the largest ${formatBytes(plan.before.largest)}, ${plural(plan.before.stores, "store")}`,
    `  after:  ${plural(plan.after.objects, "object")}, the largest ≈ ${formatBytes(plan.after.largest)}, ${plural(plan.after.stores, "store")}` +
      (plan.meets ? "  (meets the limits)" : "  (DOES NOT meet the limits)"),
    "  choices:",
    ...plan.choices.map(
      (c) => `    ${c.what} ${c.path || "/"}${c.shard ? ` [${c.shard.join(", ")}]` : ""}: ${c.why}`,
    ),
  ];
  if (plan.commands.length > 0) {
    lines.push("  commands:", ...plan.commands.map((c) => `    shardedstore ${c.map(shellQuote).join(" ")}`));
  }
  return lines;
}

/**
 * `shardedstore plan SOURCE [--max-objects N] [--max-object-bytes B] [--target dir|zip|s3] [--apply]`:
 * reads the hierarchy and prints a layout that meets the limits, with the commands that produce it;
 * `--apply` runs them through `runCommand` (the CLI itself). Exit 1 when no layout meets the limits.
 *
 * @example
 * ```ts
 * registerPlan(program, (args) => buildProgram().parseAsync(["node", "shardedstore", ...args]).then(() => {}));
 * ```
 */
export function registerPlan(program: Command, runCommand: (args: string[]) => Promise<void>): void {
  withCommonOptions(
    program
      .command("plan")
      .description(
        "choose a layout (group/array shards, zips, sharding codec) that meets object-count and size limits",
      )
      .argument("<source>", "Zarr directory, zip file or composition config (.json)")
      .option(
        "--max-objects <n>",
        "most objects (files, keys or zips) the result may have",
        positiveInt,
        100_000,
      )
      .option("--max-object-bytes <b>", "largest object (e.g. 64M, 2GiB)", parseBytes, 256 * 2 ** 20)
      .addOption(
        new Option(
          "--target <type>",
          "where the result lives: every key an object (dir, s3) or one object per zip",
        )
          .choices(["dir", "zip", "s3"])
          .default("dir"),
      )
      .option("--out <path>", "output path the commands write to", "OUT")
      .option("--apply", "run the commands"),
  ).action(async (source: string, opts: PlanOptions) => {
    const src = await openSource(source);
    let plan: Plan;
    try {
      const stats = await inspectStore(src.store, (k) => sizeOf(src.store, k));
      if (src.kind === "config") {
        // A composition's objects are its stores' physical keys, not the logical ones.
        const inv = await inventory(src.sharded, { bytes: false });
        stats.composition = {
          keys: inv.reduce((a, s) => a + s.keys, 0),
          stores: inv.length,
          split: Object.fromEntries([...src.sharded.arrayMounts].map(([p, m]) => [p, m.dims])),
        };
      }
      plan = planLayout(
        stats,
        { maxObjects: opts.maxObjects, maxObjectBytes: opts.maxObjectBytes, target: opts.target },
        source,
        opts.out,
      );
    } finally {
      await closeSource(src);
    }
    if (opts.json) await printJson({ source: path.resolve(source), ...plan });
    else await printLines(describe(plan, source));
    if (!plan.meets) throw new CheckFailed("no layout found that meets the limits (see the choices above)");
    if (opts.apply) {
      for (const c of plan.commands)
        await runCommand([...c, ...(opts.json ? ["--json"] : []), "--no-progress"]);
    }
  });
}
