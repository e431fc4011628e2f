import { type Command, InvalidArgumentError } from "commander";

/**
 * Adds the options every command takes: `--json` and `--no-progress`.
 *
 * @example
 * ```ts
 * withCommonOptions(program.command("info"));
 * ```
 */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option("--json", "print machine-readable JSON on stdout")
    .option("--no-progress", "never draw progress bars (they are only drawn on terminals anyway)");
}

/**
 * Parses a positive integer option value (commander reports the error and exits with 2).
 *
 * @example
 * ```ts
 * cmd.option("--concurrency <n>", "shards at once", positiveInt, 4);
 * ```
 */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("must be a positive integer.");
  }
  return n;
}

/**
 * Collects a repeatable option into an array.
 *
 * @example
 * ```ts
 * cmd.option("--group <path>", "group shard", collect, []);
 * ```
 */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Runs `fn` and returns its result with the time it took in milliseconds.
 *
 * @example
 * ```ts
 * const [result, ms] = await timed(() => work());
 * ```
 */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}
