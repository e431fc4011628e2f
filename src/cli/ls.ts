import type { Command } from "commander";
import type { AbsolutePath, Store } from "../node.js";
import { withCommonOptions } from "./common.js";
import { UsageError } from "./errors.js";
import { bulkReads, listAll, sizeOf } from "./hierarchy.js";
import { toPrefix } from "./keys.js";
import { openSource, sourceOptions, withSourceOptions } from "./open.js";
import { formatBytes, printJson, printLines, table } from "./output.js";
import type { CommonOptions } from "./progress.js";

interface LsOptions extends CommonOptions {
  long?: boolean;
}

/**
 * `shardedstore ls CONFIG [PREFIX]`: every logical key (under a path prefix), one a line; `-l` adds
 * the size and the store each key lives in.
 *
 * @example
 * ```ts
 * registerLs(program); // shardedstore ls out/composition.json simulation/fine -l
 * ```
 */
export function registerLs(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("ls"))
      .description("list the logical keys of a composition (or store), optionally under a path prefix")
      .argument("<config>", "composition config (.json), Zarr directory or zip")
      .argument("[prefix]", "only keys under this path, e.g. simulation/fine")
      .option("-l, --long", "show each key's size and the store that holds it"),
  ).action(async (config: string, prefixArg: string | undefined, opts: LsOptions) => {
    bulkReads();
    const prefix = toPrefix(prefixArg);
    const src = await openSource(config, sourceOptions(opts));
    const keys = await listAll(src.store, prefix === "/" ? "/" : (`${prefix}/` as AbsolutePath));
    if (keys.length === 0 && prefix !== "/") {
      // `ls a/b/zarr.json` names a key rather than a folder: show it if it exists.
      if ((await src.store.get(prefix)) !== undefined) keys.push(prefix);
      else throw new UsageError(`no keys under ${JSON.stringify(prefixArg)} in ${config}`);
    }
    if (!opts.long && !opts.json) {
      await printLines(keys);
      return;
    }
    // One JSON shape with or without --long: sizes are measured only with --long (else null).
    const bytes = (store: Store, key: AbsolutePath) =>
      opts.long ? sizeOf(store, key) : Promise.resolve(null);
    const rows = await Promise.all(
      keys.map(async (key) => {
        if (src.kind === "config") {
          const r = src.sharded.resolve(key);
          return {
            key,
            bytes: await bytes(r.store, r.key),
            store: r.mount === "" ? "base" : r.mount,
            index: r.index ? [...r.index] : null,
            innerKey: r.key,
          };
        }
        return { key, bytes: await bytes(src.store, key), store: "base", index: null, innerKey: key };
      }),
    );
    if (opts.json) {
      await printJson(rows);
      return;
    }
    await printLines(
      table(
        rows.map((r) => [
          formatBytes(r.bytes ?? 0),
          `${r.store}${r.index ? `[${r.index.join(",")}]` : ""}`,
          r.key,
        ]),
        [true, false, false],
      ),
    );
  });
}
