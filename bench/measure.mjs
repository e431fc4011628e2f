// Timing helpers shared by every bench section: warm-up, interleaved runs, medians.

/** Settings for the whole run; `--quick` trades precision for speed while developing. */
export const settings = {
  runs: 5,
  warmup: 2,
};

/** For sections whose runs take milliseconds: more runs steady the median. */
export const CHEAP = { runs: 11, warmup: 3 };

const gc = typeof globalThis.gc === "function" ? globalThis.gc : () => {};

/** Nanoseconds `fn` takes (awaited). */
export async function timeOnce(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs each variant `warmup` times, then `runs` times interleaved (A B A B …) so drift hits both
 * alike. `prepare` (untimed) runs before every timed call of a variant, e.g. to empty a directory.
 * Returns the median nanoseconds and all samples per variant.
 *
 * @param {Record<string, { run: () => unknown, prepare?: () => unknown }>} variants
 */
export async function compare(variants, { runs = settings.runs, warmup = settings.warmup } = {}) {
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < warmup + runs; i++) {
    // Alternate which variant goes first, so neither always runs on a just-collected heap.
    const order = i % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const v = variants[name];
      await v.prepare?.();
      gc();
      const ns = await timeOnce(v.run);
      if (i >= warmup) samples[name].push(ns);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { median: median(samples[n]), samples: samples[n] }]));
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * One row of the results table. `kind: "time"` compares durations (ratio = ours / baseline, lower
 * is better, target is a maximum); `kind: "speed"` compares throughput (ratio = ours / baseline,
 * higher is better, target is a minimum).
 */
export function figure({ section, name, kind, unit, work, ours, baseline, target, baselineName, note }) {
  // `work` is what one run does (keys, bytes); throughput = work / seconds.
  const perSec = (ns) => (work * 1e9) / ns;
  const ratio = kind === "time" ? ours.median / baseline.median : baseline.median / ours.median;
  const met = kind === "time" ? ratio <= target : ratio >= target;
  return {
    section,
    name,
    kind,
    unit,
    baselineName,
    ours: { medianNs: ours.median, perSec: perSec(ours.median), samplesNs: ours.samples },
    baseline: { medianNs: baseline.median, perSec: perSec(baseline.median), samplesNs: baseline.samples },
    ratio,
    target,
    met,
    ...(note ? { note } : {}),
  };
}

/** Formats a throughput in `unit`s per second, e.g. "1.23 M keys/s" or "812 MB/s". */
export function formatRate(perSec, unit) {
  if (unit === "B") return `${(perSec / 1e6).toFixed(perSec >= 1e8 ? 0 : 1)} MB/s`;
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)} M ${unit}/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k ${unit}/s`;
  return `${perSec.toFixed(1)} ${unit}/s`;
}

export function formatNs(ns) {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}
