// `npm run bench`: runs every section against the built package (dist/) and writes
// bench/RESULTS.md and bench/results.json. `node --expose-gc bench/run.mjs routing zip` runs some.
import { readFile, writeFile } from "node:fs/promises";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import { formatNs, formatRate, settings } from "./measure.mjs";

const SECTIONS = [
  "routing",
  "overhead",
  "config",
  "end-to-end",
  "directory",
  "zip",
  "zip-scale",
  "raw-read",
  "remote",
  "serve",
  "scaling",
  "pack",
];
const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const COMMAND = "npm run bench   (= npm run build && node --expose-gc bench/run.mjs)";

const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const chosen = only.length > 0 ? SECTIONS.filter((s) => only.includes(s)) : SECTIONS;

const started = Date.now();
const loadBefore = os.loadavg();
const figures = [];
const skipped = [];
let scaling = null;
const tables = [];
for (const name of chosen) {
  const t0 = Date.now();
  process.stdout.write(`\n== ${name}\n`);
  const mod = await import(`./${name}.mjs`);
  const res = await mod.run();
  for (const f of res.figures) {
    figures.push(f);
    console.log(row(f).join(" | "));
  }
  skipped.push(...(res.skipped ?? []));
  if (res.scaling) scaling = res.scaling;
  if (res.tables) tables.push(...res.tables, "");
  console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

function targetText(f) {
  if (f.target === undefined) return "— (a floor, no target)";
  if (f.kind === "time") return `≤ ${f.target}× time`;
  if (f.target > 1) return "> 1× speed (faster)";
  return `≥ ${f.target}× speed`;
}

function row(f) {
  const value = (m) => (f.unit === "B" ? formatRate(m.perSec, "B") : formatRate(m.perSec, f.unit));
  return [
    `${f.section}: ${f.name}`,
    value(f.ours),
    `${value(f.baseline)} (${f.baselineName})`,
    `${f.ratio.toFixed(2)}× ${f.kind}`,
    targetText(f),
    f.target === undefined ? "—" : f.met ? "yes" : "**no**",
  ];
}

const pkg = JSON.parse(await readFile(here("../package.json"), "utf8"));
const zarritaPkg = JSON.parse(await readFile(here("../node_modules/zarrita/package.json"), "utf8"));
const machine = {
  cores: os.availableParallelism?.() ?? os.cpus().length,
  cpu: os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  node: process.version,
  // Other work on the machine skews figures; recorded so a reader can judge.
  loadAverage1m: { before: loadBefore[0], after: os.loadavg()[0] },
};
const elapsedS = (Date.now() - started) / 1000;
const date = new Date().toISOString();

const results = {
  date,
  command: COMMAND,
  package: `${pkg.name}@${pkg.version}`,
  zarrita: zarritaPkg.version,
  machine,
  runs: settings.runs,
  warmup: settings.warmup,
  elapsedSeconds: elapsedS,
  figures,
  skipped,
  scaling,
};

const lines = [
  "# Benchmark results",
  "",
  "Written by `npm run bench` (bench/run.mjs); do not edit by hand. Every figure is the median of",
  `${settings.runs} timed runs after ${settings.warmup} warm-up runs, ours and its baseline interleaved in the same`,
  "process. *time* ratios are ours ÷ baseline duration (lower is better); *speed* ratios are ours ÷",
  "baseline throughput (higher is better). Raw samples are in `results.json`.",
  "",
  `- Command: \`${COMMAND}\``,
  `- Date: ${date}; total ${elapsedS.toFixed(0)} s`,
  `- Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, ${machine.platform}`,
  `- Node ${machine.node}, ${results.package}, zarrita ${results.zarrita}`,
  `- 1-minute load average: ${machine.loadAverage1m.before.toFixed(1)} before, ${machine.loadAverage1m.after.toFixed(1)} after`,
  "",
  "| figure | ours | baseline | ratio | target | met? |",
  "| --- | --- | --- | --- | --- | --- |",
  ...figures.map((f) => `| ${row(f).join(" | ")} |`),
  ...skipped.map((s) => `| ${s} | | | | | |`),
  "",
];
lines.push(...tables);
if (scaling) {
  const table = (rows) => [
    "| mounts | keys listed | list() | list() per key | resolve, cold (200,000 distinct keys) | resolve, hot (4,096 keys × 50) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.mounts.toLocaleString("en")} | ${r.keys.toLocaleString("en")} | ${formatNs(r.listMs * 1e6)} | ${formatNs(r.listNsPerKey)} | ${formatNs(r.coldRouteNsPerKey)}/key | ${formatNs(r.hotRouteNsPerKey)}/key |`,
    ),
  ];
  lines.push(
    "## Scaling",
    "",
    "ShardedStore over MemoryStores (80 % group shards at depths 1–3, 20 % sharded arrays, 1-D and 2-D,",
    "v3 and v2 keys), the same key mix as the routing figures. Medians of 5 runs after 1 warm-up.",
    "",
    "Mounts grow, 100,000 keys:",
    "",
    ...table(scaling.byMounts),
    "",
    "Keys grow, 1,000 mounts:",
    "",
    ...table(scaling.byKeys),
    "",
  );
}
try {
  lines.push((await readFile(here("NOTES.md"), "utf8")).trim(), "");
} catch {
  // no notes
}
if (chosen.length === SECTIONS.length) {
  await writeFile(here("RESULTS.md"), lines.join("\n"));
  await writeFile(here("results.json"), `${JSON.stringify(results, null, 1)}\n`);
  console.log(`\nwrote bench/RESULTS.md and bench/results.json (${elapsedS.toFixed(0)} s)`);
} else {
  console.log(`\n(partial run: RESULTS.md not written) ${elapsedS.toFixed(0)} s`);
}
