import { run } from "../../src/cli/main.js";

/** Runs the CLI in this process (no build, no spawn) and captures what it prints. */
export async function cli(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture =
    (sink: (s: string) => void) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      sink(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString());
      const cb = rest.find((r) => typeof r === "function") as ((e?: Error) => void) | undefined;
      cb?.();
      return true;
    };
  process.stdout.write = capture((s) => (stdout += s)) as typeof process.stdout.write;
  process.stderr.write = capture((s) => (stderr += s)) as typeof process.stderr.write;
  try {
    const code = await run(["node", "shardedstore", ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/**
 * `verify A B --arrays --json` in this process: how many arrays were compared by value and which
 * differ. Fails the test when the arrays were not checked at all.
 */
export async function sameArrays(a: string, b: string): Promise<{ compared: number; differ: unknown[] }> {
  const r = await cli(["verify", a, b, "--arrays", "--json"]);
  const { arrays } = JSON.parse(r.stdout) as {
    arrays: { checked: boolean; compared: number; differ: unknown[] };
  };
  if (arrays.checked !== true) throw new Error(`verify ${a} ${b} did not compare arrays: ${r.stdout}`);
  return { compared: arrays.compared, differ: arrays.differ };
}
