import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The project-local virtualenv's interpreter (tensorstore + numpy), made by scripts/ensure-system-deps.sh. */
export const VENV_PYTHON = fileURLToPath(new URL("../../.venv/bin/python", import.meta.url));

async function runPython(interpreter: string, code: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(interpreter, ["-c", code, ...args], { maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`python failed: ${err.stderr || err.message}`);
  }
}

/** Runs a Python snippet with Debian's interpreter (zarr-python 2.x); returns stdout. Fails loudly. */
export function python(code: string, ...args: string[]): Promise<string> {
  return runPython("/usr/bin/python3", code, args);
}

/** Runs a Python snippet in the project's .venv (tensorstore 0.1.85, numpy); returns stdout. Fails loudly. */
export function tensorstorePython(code: string, ...args: string[]): Promise<string> {
  return runPython(VENV_PYTHON, code, args);
}
