import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import type { Command } from "commander";
import { type AbsolutePath, toTensorstoreSpec } from "../node.js";
import { withCommonOptions } from "./common.js";
import { UsageError } from "./errors.js";
import { openSource } from "./open.js";
import { printLines, writeOut } from "./output.js";
import type { CommonOptions } from "./progress.js";

interface ExportOptions extends CommonOptions {
  tensorstore?: boolean;
  out?: string;
  array?: string;
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * `shardedstore export CONFIG --tensorstore [--array PATH] [--out spec.json]`: the composition as
 * one tensorstore `kvstack` kvstore spec (or, with `--array`, a whole TensorStore spec of one array).
 *
 * @example
 * ```ts
 * registerExport(program); // shardedstore export out/composition.json --tensorstore --out spec.json
 * ```
 */
export function registerExport(program: Command): void {
  withCommonOptions(
    program
      .command("export")
      .description(
        "describe a composition for another reader: --tensorstore writes a tensorstore kvstack spec",
      )
      .argument("<config>", "composition config (.json)")
      .option("--tensorstore", "a tensorstore kvstore spec (kvstack) for the whole composition")
      .option("--array <path>", 'a whole TensorStore spec ("zarr3"/"zarr" driver) for this array')
      .option("--out <file>", "write the spec to this file instead of stdout"),
  ).action(async (config: string, opts: ExportOptions) => {
    if (!opts.tensorstore) throw new UsageError("choose what to export: --tensorstore");
    const src = await openSource(config);
    if (src.kind !== "config") {
      throw new UsageError(`${config} is a ${src.kind} store, not a composition config (.json)`);
    }
    try {
      const kvstore = await toTensorstoreSpec(src.sharded);
      let spec: object = kvstore;
      if (opts.array !== undefined) {
        const p = opts.array.replace(/^\/+|\/+$/g, "");
        const driver = (await src.sharded.get(`/${p}/zarr.json` as AbsolutePath))
          ? "zarr3"
          : (await src.sharded.get(`/${p}/.zarray` as AbsolutePath))
            ? "zarr"
            : undefined;
        if (p === "" || driver === undefined)
          throw new UsageError(`no array at ${JSON.stringify(opts.array)} in ${config}`);
        spec = { driver, kvstore: { ...kvstore, path: `${p}/` } };
      }
      const text = `${JSON.stringify(spec, null, 1)}\n`;
      if (opts.out === undefined) {
        await writeOut(text);
        return;
      }
      const file = path.resolve(opts.out);
      await writeAtomically(file, text);
      if (opts.json) return;
      const layers = (kvstore as { layers?: unknown[] }).layers?.length ?? 0;
      await printLines([`wrote ${opts.out}: a tensorstore kvstack spec with ${layers} layers`]);
    } finally {
      await src.sharded.close();
    }
  });
}
