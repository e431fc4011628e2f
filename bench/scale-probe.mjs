// Preloaded into a measured process (`node --import ./bench/scale-probe.mjs …`): samples its open
// descriptors every few milliseconds and, at exit, appends {maxRSS, peakFds, ms} as one JSON line
// to the file named by SCALE_PROBE_OUT. Works for any node command, the CLI included.
import { appendFileSync, readdirSync } from "node:fs";

const out = process.env.SCALE_PROBE_OUT;
const started = performance.now();
let peakFds = 0;

function sample() {
  try {
    const n = readdirSync("/proc/self/fd").length - 1; // minus the descriptor readdir itself holds
    if (n > peakFds) peakFds = n;
  } catch {
    // /proc is Linux only; the figure is then 0.
  }
}

sample();
const timer = setInterval(sample, 5);
timer.unref();

process.on("exit", (code) => {
  sample();
  if (!out) return;
  const maxRSS = process.resourceUsage().maxRSS * 1024;
  appendFileSync(out, `${JSON.stringify({ code, maxRSS, peakFds, ms: performance.now() - started })}\n`);
});
