import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Runs a Python snippet with Debian's interpreter (zarr-python 2.x); returns stdout. Fails loudly. */
export async function python(code: string, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("/usr/bin/python3", ["-c", code, ...args], { maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`python failed: ${err.stderr || err.message}`);
  }
}
