import type { Command } from "commander";
import { withCommonOptions } from "./common.js";
import { UsageError } from "./errors.js";
import { parseJson } from "./hierarchy.js";
import { toKey } from "./keys.js";
import { openSource, sourceOptions, withSourceOptions } from "./open.js";
import { printJson, writeOut } from "./output.js";
import type { CommonOptions } from "./progress.js";

interface CatOptions extends CommonOptions {
  pretty?: boolean;
}

/**
 * `shardedstore cat CONFIG KEY`: the value's raw bytes on stdout; `--pretty` indents JSON metadata.
 *
 * @example
 * ```ts
 * registerCat(program); // shardedstore cat out/composition.json simulation/fine/foo/zarr.json --pretty
 * ```
 */
export function registerCat(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("cat"))
      .description("write the value of one key to stdout (raw bytes)")
      .argument("<config>", "composition config (.json), Zarr directory or zip")
      .argument("<key>", "the key, e.g. simulation/fine/foo/zarr.json")
      .option("--pretty", "pretty-print a JSON value (metadata documents)"),
  ).action(async (config: string, keyArg: string, opts: CatOptions) => {
    const key = toKey(keyArg);
    const src = await openSource(config, sourceOptions(opts));
    const value = await src.store.get(key);
    if (value === undefined) throw new UsageError(`no key ${JSON.stringify(key)} in ${config}`);
    if (opts.pretty || opts.json) {
      const doc = parseJson(value);
      if (doc === undefined) throw new UsageError(`${key} is not JSON, so it cannot be pretty-printed`);
      await printJson(doc);
      return;
    }
    await writeOut(value);
  });
}
