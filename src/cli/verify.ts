import type { Command } from "commander";
import { positiveInt, withCommonOptions } from "./common.js";
import { type Comparison, compareStores } from "./compare.js";
import { CheckFailed } from "./errors.js";
import { bulkReads } from "./hierarchy.js";
import { closeSource, openSource, type Source, sourceOptions, withSourceOptions } from "./open.js";
import { formatBytes, plural, printJson, printLines } from "./output.js";
import { type CommonOptions, progressBar } from "./progress.js";

interface VerifyOptions extends CommonOptions {
  arrays?: boolean;
  concurrency: number;
  limit: number;
}

function describeSource(s: Source): string {
  return s.kind === "config" ? "composition" : `${s.kind} store`;
}

/**
 * Lines describing a comparison, at most `limit` keys per kind of difference.
 *
 * @example
 * ```ts
 * printLines(reportLines(result, 20));
 * ```
 */
export function reportLines(r: Comparison, limit: number): string[] {
  const lines: string[] = [];
  const list = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`${title} (${items.length}):`);
    for (const i of items.slice(0, limit)) lines.push(`  ${i}`);
    if (items.length > limit) lines.push(`  … and ${items.length - limit} more (--limit, or --json for all)`);
  };
  list("only in A", r.onlyInA);
  list("only in B", r.onlyInB);
  list(
    "different bytes",
    r.differ.map((d) => `${d.key} (${d.bytesA} B vs ${d.bytesB} B)`),
  );
  if (r.arrays)
    list(
      "arrays that differ",
      r.arrays.differ.map((d) => `${d.path}: ${d.reason}`),
    );
  return lines;
}

/**
 * `shardedstore verify A B`: compares every logical key byte for byte (and with `--arrays`, every
 * array by value through zarrita); exits 1 on any difference.
 *
 * @example
 * ```ts
 * registerVerify(program); // shardedstore verify out/zip/composition.json out/single.zarr --arrays
 * ```
 */
export function registerVerify(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("verify"))
      .description("check that two stores or compositions hold the same keys and bytes; exit 1 if not")
      .argument("<a>", "composition config (.json), Zarr directory or zip")
      .argument("<b>", "composition config (.json), Zarr directory or zip")
      .option("--arrays", "also read every array of A and B through zarrita and compare values")
      .option("--concurrency <n>", "values read at once", positiveInt, 8)
      .option("--limit <n>", "differences listed per kind", positiveInt, 20),
  ).action(async (aPath: string, bPath: string, opts: VerifyOptions) => {
    bulkReads();
    const a = await openSource(aPath, sourceOptions(opts));
    const b = await openSource(bPath, sourceOptions(opts));
    const bar = progressBar(opts, "comparing keys");
    let r: Comparison;
    try {
      r = await compareStores(a.store, b.store, {
        arrays: opts.arrays === true,
        concurrency: opts.concurrency,
        onKeys: (n) => bar.start(n),
        onKey: () => bar.increment(),
      });
    } finally {
      bar.stop();
      await Promise.all([closeSource(a), closeSource(b)]);
    }
    if (opts.json) {
      // One shape whatever the flags: `arrays.checked` says whether arrays were compared.
      const arrays = r.arrays ? { checked: true, ...r.arrays } : { checked: false, compared: 0, differ: [] };
      await printJson({ a: a.path, b: b.path, identical: r.differences === 0, ...r, arrays });
    } else {
      const lines = [
        `A: ${aPath} (${describeSource(a)}, ${plural(r.keysA, "key")})`,
        `B: ${bPath} (${describeSource(b)}, ${plural(r.keysB, "key")})`,
        `compared ${plural(r.keysA - r.onlyInA.length, "common key")} (${formatBytes(r.bytes)} identical)` +
          (r.arrays ? `, ${plural(r.arrays.compared, "array")} by value` : ""),
        ...reportLines(r, opts.limit),
        r.differences === 0 ? "OK: identical" : `FAILED: ${plural(r.differences, "difference")}`,
      ];
      await printLines(lines);
    }
    if (r.differences > 0) throw new CheckFailed(`${aPath} and ${bPath} differ`);
  });
}
