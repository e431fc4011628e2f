// `npm run bench:scale`: a composition of 10^4 and 10^5 index stores (one array sharded over 2
// dims, uint8 chunks), as directories and as zips, side by side with one directory store holding
// the same chunks. Each operation runs in a fresh process under `ulimit -n 256` with
// bench/scale-probe.mjs preloaded, which reports its peak open descriptors and maximum RSS.
// Printed: descriptors, RSS, config bytes and open/list/read/info/verify/convert times.
//
// `node bench/scale.mjs 1000 10000` picks the sizes. With SHARDEDSTORE_PY_ORIGINAL set to a
// checkout of thewtex/shardedstore 0.3.1 (not part of this repository), the Python original
// opens the same expanded config and reads the same 100-chunk subset, with Debian's zarr 2.13
// (SCALE_ONLY=python runs that comparison alone: `SCALE_ONLY=python SHARDEDSTORE_PY_ORIGINAL=… node
// bench/scale.mjs 10000 100000`).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const CLI = here("../dist/cli/main.js");
const OPS = here("./scale-ops.mjs");
const CONVERT_SCALE = here("./convert-scale.mjs");
const ULIMIT = 256;
const CHUNK = 16;

const sizes = process.argv
  .slice(2)
  .filter((a) => /^\d+$/.test(a))
  .map(Number);
if (sizes.length === 0) sizes.push(10_000, 100_000);

/** Writes the files directly (the layout our stores write), so building 10^5 stores takes seconds. */
async function build(root, n) {
  const [s0, s1] = grid(n);
  const node = await import("shardedstore/node");
  const chunk = new Uint8Array(CHUNK).fill(7);
  // One directory store with every chunk: the baseline.
  const single = path.join(root, "single.zarr");
  mkdirSync(single, { recursive: true });
  writeFileSync(path.join(single, ".zgroup"), enc({ zarr_format: 2 }));
  mkdirSync(path.join(single, "a"));
  writeFileSync(path.join(single, "a/.zarray"), zarray([s0, s1, CHUNK], [1, 1, CHUNK]));
  for (let i = 0; i < s0; i++)
    for (let j = 0; j < s1; j++) writeFileSync(path.join(single, `a/${i}.${j}.0`), chunk);
  // The composition: base + one directory store per index tuple.
  const dir = path.join(root, "dir");
  mkdirSync(path.join(dir, "base.zarr/a"), { recursive: true });
  writeFileSync(path.join(dir, "base.zarr/.zgroup"), enc({ zarr_format: 2 }));
  writeFileSync(path.join(dir, "base.zarr/a/.zarray"), zarray([s0, s1, CHUNK], [1, 1, CHUNK]));
  const indexMeta = zarray([CHUNK], [CHUNK]);
  for (let i = 0; i < s0; i++) {
    mkdirSync(path.join(dir, `a/${i}`), { recursive: true });
    for (let j = 0; j < s1; j++) {
      const s = path.join(dir, `a/${i}/${j}.zarr`);
      mkdirSync(s);
      writeFileSync(path.join(s, ".zarray"), indexMeta);
      writeFileSync(path.join(s, "0"), chunk);
    }
  }
  const make = (prefix, factory) =>
    new node.ShardedStore(new node.DirectoryStore(path.join(prefix, "base.zarr")), {
      arrayShards: { a: { dims: 2, factory: factory(path.join(prefix, "a")) } },
    });
  await save(node, make(dir, node.arrayShardDirectoryStore), path.join(dir, "composition.json"));
  // The zip composition: one zip per index store (all alike: copies of one archive).
  const zip = path.join(root, "zip");
  mkdirSync(path.join(zip, "base.zarr/a"), { recursive: true });
  writeFileSync(path.join(zip, "base.zarr/.zgroup"), enc({ zarr_format: 2 }));
  writeFileSync(path.join(zip, "base.zarr/a/.zarray"), zarray([s0, s1, CHUNK], [1, 1, CHUNK]));
  const template = path.join(root, "template.zip");
  const z = new node.ZipStore(template, { mode: "w" });
  await z.set("/.zarray", new TextEncoder().encode(indexMeta));
  await z.set("/0", chunk);
  await z.close();
  const bytes = readFileSync(template);
  for (let i = 0; i < s0; i++) {
    mkdirSync(path.join(zip, `a/${i}`), { recursive: true });
    for (let j = 0; j < s1; j++) writeFileSync(path.join(zip, `a/${i}/${j}.zarr.zip`), bytes);
  }
  await save(node, make(zip, node.arrayShardZipStore), path.join(zip, "composition.json"));
  return { single, dir, zip, grid: [s0, s1] };
}

/** Saves the expanded (Python-compatible) config and, when the package has it, the compact one. */
async function save(node, store, file) {
  await node.saveShardedStore(store, file, { form: "expanded" });
  const compact = file.replace(/\.json$/, ".compact.json");
  try {
    await node.saveShardedStore(store, compact, { form: "compact" });
    // A build without the compact form ignores the option: keep only a config that is smaller.
    if (statSync(compact).size >= statSync(file).size) rmSync(compact);
  } catch {
    // no compact form in this build
  }
  await store.close();
}

const sizeOf = (f) => {
  try {
    return statSync(f).size;
  } catch {
    return null;
  }
};

/** Runs a node command under the descriptor limit with the probe; returns its report. */
function measure(args, { cwd } = {}) {
  const r = probed(args, { limit: ULIMIT, cwd, cpu: true });
  const wall = r.wallMs;
  const probe = r.probe;
  const ok = r.ok;
  const lines = (ok ? r.stdout : `${r.stderr}\n${r.stdout}`).trim().split("\n");
  const detail = ok
    ? lines.pop()
    : (lines.find((l) => /error/i.test(l)) ?? lines[0] ?? `exit ${r.status}`).slice(0, 300);
  // An operation of scale-ops.mjs times itself (without Node's start-up); a CLI command is timed whole.
  let ms = wall;
  // CPU time (user + system, thread pool included): the operation's own, else the whole command's.
  let cpuMs = r.cpuMs;
  try {
    if (ok && typeof JSON.parse(detail).ms === "number") ms = JSON.parse(detail).ms;
    if (ok && typeof JSON.parse(detail).cpuMs === "number") cpuMs = JSON.parse(detail).cpuMs;
  } catch {
    // not JSON: a CLI command
  }
  return {
    ok,
    wallMs: ms,
    cpuMs,
    rssMiB: probe ? probe.maxRSS / 2 ** 20 : null,
    fds: probe?.peakFds ?? null,
    detail,
  };
}

const fmt = (x, d = 0) => (x === null || x === undefined ? "—" : x.toFixed(d));
const rows = [];
const notes = [];
// SCALE_SKIP=convert,verify leaves out the slowest commands (e.g. for a quick 10^5 run).
const skip = new Set((process.env.SCALE_SKIP ?? "").split(",").filter(Boolean));
// SCALE_ONLY=python measures only the side-by-side with the Python original (SHARDEDSTORE_PY_ORIGINAL)
// and keeps the table rows of the previous SCALE.md.
const PYTHON_ONLY = process.env.SCALE_ONLY === "python";

function report(n, op, ours, base) {
  // Opening one directory store is free (a constructor): no ratio against ~0.
  const ratio = ours.ok && base?.ok && base.wallMs >= 5 ? ours.wallMs / base.wallMs : null;
  rows.push({ n, op, ours, base, ratio });
  const cell = (m) =>
    m
      ? `${m.ok ? "" : "FAILED "}${fmt(m.wallMs / 1000, 2)} s (cpu ${fmt(m.cpuMs / 1000, 2)}), ${fmt(m.rssMiB)} MiB, ${fmt(m.fds)} fds`
      : "—";
  console.log(
    `${String(n).padStart(7)}  ${op.padEnd(34)} ${cell(ours).padEnd(34)} ${cell(base).padEnd(34)} ${ratio === null ? "" : `${ratio.toFixed(2)}× time`}`,
  );
  if (!ours.ok) console.log(`         ${ours.detail}`);
}

function python(code, ...args) {
  const original = process.env.SHARDEDSTORE_PY_ORIGINAL;
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/python3", ["-c", code, ...args], {
    env: { ...process.env, PYTHONPATH: original },
    encoding: "utf8",
  });
  return { ok: r.status === 0, wallMs: performance.now() - t0, out: r.stdout.trim(), err: r.stderr.trim() };
}

// The Python original (zarr 2.13) side by side with ours on the expanded directory config: open
// it (read + parse + build; module imports excluded on both sides, the original's import time is
// shown apart) and read the 100-chunk subset [0:10, 0:10]. Its from_config takes the number of
// sharded dims from the length of the last index key ("99.99" → 3), so reads fail past index 9;
// the script sets array_shard_dims back to the true value (one line, shown below) so that the read
// path itself is compared. Medians of RUNS fresh processes each, alternating.
const PY_RUNS = Number(process.env.SCALE_PY_RUNS ?? 3);
const PY_CODE = `
import json, sys, time, os
t0 = time.perf_counter()
import shardedstore, zarr
t1 = time.perf_counter()
c1 = time.process_time()
os.chdir(os.path.dirname(sys.argv[1]))
cfg = json.load(open(sys.argv[1]))
s = shardedstore.ShardedStore.from_config(cfg)
t2 = time.perf_counter()
c2 = time.process_time()
s.array_shard_dims["a"] = int(sys.argv[2])  # its index-key-length defect, corrected
a = zarr.open_array(store=s, path="a", mode="r")
x = a[0:10, 0:10, :]
t3 = time.perf_counter()
c3 = time.process_time()
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "open_ms": (t2 - t1) * 1e3, "read100_ms": (t3 - t2) * 1e3,
  "open_cpu_ms": (c2 - c1) * 1e3, "read100_cpu_ms": (c3 - c2) * 1e3, "sum": int(x.sum())}))
`;

import { enc, grid, probed, zarray } from "./scale-common.mjs";

const median = (xs) => {
  const v = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)];
};

function comparePython(n, b) {
  const cfg = path.join(b.dir, "composition.json");
  const py = [];
  const ours = [];
  const failures = [];
  for (let i = 0; i < PY_RUNS; i++) {
    const r = python(PY_CODE, cfg, "2");
    if (r.ok) py.push(JSON.parse(r.out));
    else failures.push(`Python original failed: ${r.err.split("\n").pop()}`);
    // Ours as a plain process too (no descriptor probe, no ulimit), like the Python one.
    const m = spawnSync(process.execPath, [OPS, "timed", "config", cfg], { encoding: "utf8" });
    if (m.status === 0) ours.push(JSON.parse(m.stdout.trim().split("\n").pop()));
    else failures.push(`ours failed: ${(m.stderr || m.stdout).trim().split("\n").pop()}`);
  }
  const at = `${n.toLocaleString("en")} index stores, expanded directory config`;
  const pyOpen = median(py.map((r) => r.open_ms));
  const pyRead = median(py.map((r) => r.read100_ms));
  const pyImport = median(py.map((r) => r.import_ms));
  const ourOpen = median(ours.map((r) => r.openMs));
  const ourRead = median(ours.map((r) => r.read100Ms));
  const sums = new Set([...py.map((r) => r.sum), ...ours.map((r) => r.sum)]);
  const ourOpenCpu = median(ours.map((r) => r.openCpuMs));
  const ourReadCpu = median(ours.map((r) => r.read100CpuMs));
  const pyOpenCpu = median(py.map((r) => r.open_cpu_ms));
  const pyReadCpu = median(py.map((r) => r.read100_cpu_ms));
  const ratio = (o, p) => (o !== null && p ? `${(o / p).toFixed(2)}×` : "—");
  const line = (what, o, p, oc, pc) =>
    `${at}: ${what}: ours ${fmt(o)} ms vs Python original ${fmt(p)} ms (zarr 2.13): ${ratio(o, p)} (target < 1×); CPU time ${fmt(oc)} ms vs ${fmt(pc)} ms: ${ratio(oc, pc)}`;
  const lines = [
    line("open (read + parse + build)", ourOpen, pyOpen, ourOpenCpu, pyOpenCpu),
    line("read 100 chunks after open", ourRead, pyRead, ourReadCpu, pyReadCpu),
    `${at}: the Python original's imports (zarr, shardedstore) take another ${fmt(pyImport)} ms; medians of ${PY_RUNS} runs; chunk sums ${[...sums].join(", ")} (equal when one value)`,
    ...failures.slice(0, 2).map((f) => `${at}: ${f}`),
  ];
  for (const l of lines) {
    notes.push(l);
    console.log(l);
  }
}

console.log(
  `descriptor limit ${ULIMIT}; each figure: time (in-process for open/list/read, whole command for the CLI), max RSS, peak open descriptors; a fresh process each`,
);
console.log(
  `${"stores".padStart(7)}  ${"operation".padEnd(34)} ${"composition".padEnd(34)} ${"one directory store".padEnd(34)} ratio`,
);
for (const n of sizes) {
  const root = path.join(tmpdir(), `ss-scale-${n}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const t0 = performance.now();
  const b = await build(root, n);
  console.log(
    `${String(n).padStart(7)}  built ${b.grid.join("×")} index stores ×2 + one store in ${fmt((performance.now() - t0) / 1000, 1)} s`,
  );
  for (const kind of PYTHON_ONLY ? [] : ["dir", "zip"]) {
    const cfg = path.join(b[kind], "composition.json");
    const compact = path.join(b[kind], "composition.compact.json");
    const sizes = `${kind} config at ${n.toLocaleString("en")} index stores: expanded ${sizeOf(cfg)?.toLocaleString("en")} B, compact ${sizeOf(compact)?.toLocaleString("en") ?? "—"} B`;
    notes.push(sizes);
    console.log(`${String(n).padStart(7)}  ${sizes}`);
    const single = ["directory", b.single];
    for (const [op, label] of [
      ["open", "open config"],
      ["list", "list() every key"],
      ["read", "zarrita: read every chunk"],
      ["read100", "zarrita: read 100 chunks"],
    ]) {
      report(
        n,
        `${kind}: ${label} (expanded)`,
        measure([OPS, op, "config", cfg]),
        measure([OPS, op, ...single]),
      );
      if (sizeOf(compact))
        report(n, `${kind}: ${label} (compact)`, measure([OPS, op, "config", compact]), null);
    }
    report(
      n,
      `${kind}: shardedstore info`,
      measure([CLI, "info", "--json", cfg]),
      measure([CLI, "info", "--json", b.single]),
    );
    report(n, `${kind}: shardedstore ls`, measure([CLI, "ls", cfg]), measure([CLI, "ls", b.single]));
    if (!skip.has("verify"))
      report(n, `${kind}: shardedstore verify vs one store`, measure([CLI, "verify", cfg, b.single]), null);
    if (!skip.has("convert")) {
      const out = path.join(root, `converted-${kind}`);
      const to = kind === "dir" ? "zip" : "dir";
      // Baseline: a plain copy (cp -r, no fsync) of the same files; bench/convert-scale.mjs has more.
      const copy = measure([CONVERT_SCALE, "copy", b[kind], `${out}-copy`]);
      rmSync(`${out}-copy`, { recursive: true, force: true });
      report(
        n,
        `${kind}: convert --to ${to} (base: cp -r of its files)`,
        measure([CLI, "convert", cfg, "--to", to, "--out", out, "--json"]),
        copy,
      );
      // A resumed conversion: everything is already there.
      report(
        n,
        `${kind}: convert --to ${to}, resumed`,
        measure([CLI, "convert", cfg, "--to", to, "--out", out, "--json"]),
        null,
      );
    }
  }
  if (process.env.SHARDEDSTORE_PY_ORIGINAL) comparePython(n, b);
  rmSync(root, { recursive: true, force: true });
}
// Rows and notes of sizes this run did not measure are kept from the previous SCALE.md.
const measured = sizes.map((n) => n.toLocaleString("en"));
let kept = { notes: [], rows: [] };
// A Python-only run keeps the previous SCALE.md's date (its table's) and says when it ran itself.
let previousDate = "an earlier run";
// ... and what the table's run left out (SCALE_SKIP), which it said.
let previousSkip = "";
try {
  const before = readFileSync(here("SCALE.md"), "utf8").split("\n");
  previousDate = /Date: (\S+?)\.?$/m.exec(before.join("\n"))?.[1] ?? previousDate;
  previousSkip = /Left out of (?:this|the table's) run: ([^)]*\))/.exec(before.join(" "))?.[1] ?? "";
  const other = (l) => !measured.some((m) => l.includes(`| ${m} |`) || l.includes(` ${m} index stores`));
  // A Python-only run replaces the side-by-side notes of its sizes and keeps everything else.
  const pythonNote = (l) =>
    measured.some((m) => l.startsWith(`- ${m} index stores, expanded directory config`));
  kept = {
    // A run without the Python original keeps its previous side-by-side notes.
    notes: before.filter(
      (l) =>
        l.startsWith("- ") &&
        (PYTHON_ONLY ? !pythonNote(l) : other(l) || (!process.env.SHARDEDSTORE_PY_ORIGINAL && pythonNote(l))),
    ),
    rows: before.filter((l) => /^\| [\d,]+ \|/.test(l) && (PYTHON_ONLY || other(l))),
  };
} catch {
  // first run
}
const cell = (m) =>
  m
    ? `${m.ok ? "" : "**failed** "}${fmt(m.wallMs / 1000, 2)} s (cpu ${fmt(m.cpuMs / 1000, 2)} s) · ${fmt(m.rssMiB)} MiB · ${fmt(m.fds)} fds`
    : "";
writeFileSync(
  here("SCALE.md"),
  [
    "# Scale results",
    "",
    "Written by `npm run bench:scale` (bench/scale.mjs); do not edit by hand. One array sharded over 2 dims",
    `(uint8 chunks of ${CHUNK} B), one index store per chunk row, each operation in a fresh process under`,
    `\`ulimit -n ${ULIMIT}\`; time · max RSS · peak open descriptors. open/list/read times include opening the config`,
    `(in-process, without Node's start-up); CLI commands are timed whole. cpu = user + system CPU time over the same`,
    "span (thread pool included; the machine is shared, so it is the steadier figure; rows without it are from a",
    // A Python-only run keeps the table's date: its own is on the line that says what it measured.
    `run before it was recorded). Date: ${PYTHON_ONLY ? previousDate : new Date().toISOString()}.`,
    ...(skip.size > 0 && !PYTHON_ONLY
      ? ["", `Left out of this run: ${[...skip].join(", ")} (SCALE_SKIP).`]
      : []),
    ...(PYTHON_ONLY && previousSkip !== "" ? ["", `Left out of the table's run: ${previousSkip}.`] : []),
    ...(PYTHON_ONLY
      ? [
          "",
          `The Python-original lines at ${measured.join(" and ")} index stores are from a SCALE_ONLY=python run (${new Date().toISOString()}); the table rows and any other lines are from the run dated above.`,
        ]
      : []),
    "",
    ...kept.notes,
    ...notes.map((x) => `- ${x}`),
    "",
    "| index stores | operation | composition | one directory store | ratio |",
    "| ---: | --- | --- | --- | ---: |",
    ...kept.rows,
    ...rows.map(
      (r) =>
        `| ${r.n.toLocaleString("en")} | ${r.op} | ${cell(r.ours)} | ${cell(r.base)} | ${r.ratio === null ? "" : `${r.ratio.toFixed(2)}×`} |`,
    ),
    "",
  ].join("\n"),
);
console.log("wrote bench/SCALE.md");
