import * as path from "node:path";
import type { Command } from "commander";
import type { ShardedStore } from "../node.js";
import { saveShardedStore } from "../node.js";
import { withCommonOptions } from "./common.js";
import { compositionOf } from "./composition-of.js";
import { CheckFailed, UsageError } from "./errors.js";
import { CONFIG_NAME } from "./layout.js";
import { type SourceOptions, sourceOptions } from "./open.js";
import { plural, printJson, printLines, warn } from "./output.js";
import { localParts, PARTS_DIR, type PartManifest, type PartsPlace } from "./parts.js";
import type { CommonOptions } from "./progress.js";
import { saveS3Config } from "./s3-config.js";
import { isS3Location, S3Output } from "./s3-out.js";

const sameStructure = (a: PartManifest, b: PartManifest) =>
  a.command === b.command &&
  a.source === b.source &&
  a.type === b.type &&
  JSON.stringify(a.groups) === JSON.stringify(b.groups) &&
  JSON.stringify(a.arrays) === JSON.stringify(b.arrays) &&
  JSON.stringify(a.indices) === JSON.stringify(b.indices);

/**
 * Checks that every part of a split `convert`/`reshard` recorded in `place` finished and that all
 * were made alike; returns their manifests. Missing or incomplete parts are a {@link CheckFailed}
 * naming them.
 *
 * @example
 * ```ts
 * const { parts, manifests } = await checkParts(localParts("out"));
 * ```
 */
export async function checkParts(place: PartsPlace): Promise<{ parts: number; manifests: PartManifest[] }> {
  const out = place.label;
  const found = await place.list();
  if (found.length === 0) {
    throw new UsageError(
      `${out} has no part manifests (${PARTS_DIR}/K-of-N.json): run convert or reshard with --part K/N first`,
    );
  }
  const ns = [...new Set(found.map((p) => p.n))];
  if (ns.length > 1) {
    throw new CheckFailed(`${out} holds parts of different splits (N = ${ns.join(", ")}); keep one`);
  }
  const n = ns[0]!;
  const manifests: PartManifest[] = [];
  const missing: string[] = [];
  const incomplete: string[] = [];
  for (let k = 1; k <= n; k++) {
    const m = await place.read({ k, n });
    if (m === undefined) missing.push(`${k}/${n}`);
    else if (!m.complete) incomplete.push(`${k}/${n}`);
    else manifests.push(m);
  }
  if (missing.length > 0 || incomplete.length > 0) {
    const what = [
      missing.length > 0 ? `missing part${missing.length > 1 ? "s" : ""} ${missing.join(", ")}` : "",
      incomplete.length > 0
        ? `incomplete part${incomplete.length > 1 ? "s" : ""} ${incomplete.join(", ")}`
        : "",
    ].filter((s) => s !== "");
    throw new CheckFailed(`${out}: ${what.join("; ")}; run them (again) before finalize`);
  }
  const first = manifests[0]!;
  const odd = manifests.find((m) => !sameStructure(first, m));
  if (odd !== undefined) {
    throw new CheckFailed(
      `${out}: part ${odd.part}/${n} was made from another source or command than part 1/${n}`,
    );
  }
  return { parts: n, manifests };
}

/**
 * Checks that every part of a split `convert`/`reshard` in the local folder `out` finished and
 * builds the composition from their manifests (see {@link checkParts}).
 *
 * @example
 * ```ts
 * const { store, parts } = await finalizeParts("out");
 * ```
 */
export async function finalizeParts(
  out: string,
): Promise<{ store: ShardedStore; parts: number; manifests: PartManifest[] }> {
  const { parts, manifests } = await checkParts(localParts(out));
  const first = manifests[0]!;
  const stores = manifests.flatMap((m) => m.stores);
  return { store: compositionOf(out, first.type, first, stores, out), parts, manifests };
}

/**
 * `shardedstore finalize OUT`: after `convert`/`reshard --part K/N` ran for every K, checks that
 * every part finished (exit 1 naming the missing or incomplete ones) and writes `OUT/composition.json`.
 *
 * @example
 * ```ts
 * registerFinalize(program); // shardedstore finalize out
 * ```
 */
export function registerFinalize(program: Command): void {
  withCommonOptions(
    program
      .command("finalize")
      .description(
        `check that every part of a split convert/reshard (--part K/N) finished and write OUT/${CONFIG_NAME}`,
      )
      .argument("<out>", "the --out folder (or s3://bucket/prefix) the parts wrote to")
      .option("--s3-endpoint <url>", "S3-compatible endpoint for an s3:// OUT (path-style addressing)"),
  ).action(async (outDir: string, opts: CommonOptions & SourceOptions) => {
    let config: string;
    let parts: number;
    let manifests: PartManifest[];
    if (isS3Location(outDir)) {
      const out = S3Output.parse(outDir, sourceOptions(opts));
      try {
        await out.check({ empty: false });
        ({ parts, manifests } = await checkParts(out.parts()));
        const first = manifests[0]!;
        await saveS3Config(
          out,
          first.type,
          first,
          manifests.flatMap((m) => m.stores),
          { onWarning: warn },
        );
        config = out.where(CONFIG_NAME);
      } finally {
        await out.close();
      }
    } else {
      const out = path.resolve(outDir);
      const done = await finalizeParts(out);
      ({ parts, manifests } = done);
      config = path.join(out, CONFIG_NAME);
      await saveShardedStore(done.store, config, { onWarning: warn });
      await done.store.close();
    }
    const stores = manifests.reduce((a, m) => a + m.stores.length, 0);
    if (opts.json) {
      await printJson({
        config,
        parts,
        stores,
        command: manifests[0]!.command,
        source: manifests[0]!.source,
      });
      return;
    }
    await printLines([
      `Finalized ${plural(parts, "part")} of ${manifests[0]!.command}: ${plural(stores, "store")}`,
      `  config:  ${config.includes("://") ? config : path.relative(process.cwd(), config) || config}`,
    ]);
  });
}
