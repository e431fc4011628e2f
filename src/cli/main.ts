#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { registerCat } from "./cat.js";
import { registerConsolidate } from "./consolidate.js";
import { registerConvert } from "./convert.js";
import { registerDemo } from "./demo.js";
import { describeError, EXIT } from "./errors.js";
import { registerExport } from "./export.js";
import { registerFinalize } from "./finalize.js";
import { registerInfo } from "./info.js";
import { registerLs } from "./ls.js";
import { registerMerge } from "./merge.js";
import { registerPack, registerUnpack } from "./pack.js";
import { registerPlan } from "./plan.js";
import { registerReshard } from "./reshard.js";
import { registerServe } from "./serve.js";
import { registerVerify } from "./verify.js";

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * The `shardedstore` command line: every command registered, usage errors turned into exceptions
 * (see {@link run} for exit codes).
 *
 * @example
 * ```ts
 * await buildProgram().parseAsync(["node", "shardedstore", "info", "composition.json"]);
 * ```
 */
export function buildProgram(): Command {
  const program = new Command("shardedstore")
    .description("A Zarr store made of other stores: inspect, build, convert and check compositions.")
    .version(version(), "-V, --version")
    .exitOverride()
    .showSuggestionAfterError()
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 1 a check failed (verify) or an operation failed, 2 bad usage\n(a missing file, a bad config, a key that does not exist, a wrong option).\nEvery command takes --help, --json (machine output) and --no-progress.",
    );
  registerDemo(program);
  registerInfo(program);
  registerLs(program);
  registerCat(program);
  registerConvert(program);
  registerReshard(program);
  registerMerge(program);
  registerVerify(program);
  registerConsolidate(program);
  registerExport(program);
  registerServe(program);
  registerPack(program);
  registerUnpack(program);
  registerFinalize(program);
  registerPlan(program, async (args) => {
    await buildProgram().parseAsync(["node", "shardedstore", ...args]);
  });
  // Commander enforces required options but its help does not say which they are.
  for (const cmd of program.commands) {
    for (const o of cmd.options) {
      if (o.mandatory && !o.description.endsWith("(required)")) o.description = `${o.description} (required)`;
    }
  }
  return program;
}

/**
 * Runs the CLI and returns the exit code: 0 on success, 1 when a check (or an operation) failed,
 * 2 on bad usage. Errors are one line on stderr; a stack only with `SHARDEDSTORE_DEBUG=1` for errors
 * that are not the user's.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv);
 * ```
 */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed the message (or the help).
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT.ok;
      return EXIT.usage;
    }
    const { code, message, stack } = describeError(err);
    process.stderr.write(`error: ${message}\n`);
    if (stack !== undefined && process.env.SHARDEDSTORE_DEBUG) process.stderr.write(`${stack}\n`);
    return code;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === (await realpath(process.argv[1]))) {
  process.exitCode = await run(process.argv);
}

async function realpath(p: string): Promise<string> {
  const { realpath: rp } = await import("node:fs/promises");
  return rp(p).catch(() => p);
}
