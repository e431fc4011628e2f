// What the scale benchmarks (scale, convert-scale, list-scale, s3-out) share: the grid of index
// stores, the v2 array metadata they write, and running one operation in a fresh process with the
// descriptor/RSS probe (scale-probe.mjs) preloaded under a descriptor limit.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const PROBE = fileURLToPath(new URL("./scale-probe.mjs", import.meta.url));

/** Two factors of n, as square as possible: the 2-D grid of index stores. */
export function grid(n) {
  let a = Math.floor(Math.sqrt(n));
  while (n % a !== 0) a--;
  return [a, n / a];
}

/** A JSON document, newline-terminated as Python writes it. */
export const enc = (o) => `${JSON.stringify(o)}\n`;

/** A `.zarray` document (uint8, uncompressed, `.` separator). */
export const zarray = (shape, chunks) =>
  enc({
    zarr_format: 2,
    shape,
    chunks,
    dtype: "|u1",
    compressor: null,
    fill_value: 0,
    filters: null,
    order: "C",
    dimension_separator: ".",
  });

/**
 * Runs `node args…` in a fresh process under `ulimit -n limit` with the probe preloaded (and, with
 * `cpu`, under /usr/bin/time for user + system CPU): exit status, output, wall time and the probe's
 * last record (max RSS, peak descriptors), or `probe: null` when the process died before writing it.
 */
export function probed(args, { limit = 256, cwd, cpu = false } = {}) {
  const out = path.join(
    tmpdir(),
    `ss-scale-probe-${process.pid}-${Math.random().toString(36).slice(2)}.jsonl`,
  );
  const node = `node --import ${JSON.stringify(PROBE)} ${args.map((a) => JSON.stringify(a)).join(" ")}`;
  const cmd = `ulimit -n ${limit}; exec ${cpu ? "/usr/bin/time -f '@@cpu %U %S' " : ""}${node}`;
  const t0 = performance.now();
  const r = spawnSync("bash", ["-c", cmd], {
    cwd,
    env: { ...process.env, SCALE_PROBE_OUT: out },
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const wallMs = performance.now() - t0;
  let probe = null;
  try {
    probe = JSON.parse(readFileSync(out, "utf8").trim().split("\n").pop());
    rmSync(out);
  } catch {
    // the process died before its exit handler ran
  }
  let stderr = r.stderr;
  let cpuMs = null;
  const m = /@@cpu ([\d.]+) ([\d.]+)/.exec(stderr);
  if (m) {
    cpuMs = (Number(m[1]) + Number(m[2])) * 1000;
    stderr = stderr.replace(/@@cpu .*\n?/, "");
  }
  return { ok: r.status === 0, status: r.status, stdout: r.stdout, stderr, wallMs, cpuMs, probe };
}
