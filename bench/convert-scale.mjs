// `node bench/convert-scale.mjs [sizes…]` (default 1000 10000): `shardedstore convert` of a
// composition of N small index stores (one array sharded over 2 dims, one 16-byte uint8 chunk per
// store), directories → zips and zips → directories, each beside baselines measured in the same run
// on the same data: a plain copy of the same files (`cp -r`, no fsync), and `merge` of the same
// composition into one store. Each command runs in a fresh process with bench/scale-probe.mjs
// preloaded (max RSS, peak descriptors). Printed: ms per store, MiB, descriptors, and the ratio
// convert / plain copy. `CONVERT_CONCURRENCY=1,4,16` runs convert at each `--concurrency`;
// `CONVERT_BEFORE=/other/checkout/dist/cli/main.js` adds that build's convert; `CONVERT_KINDS=dir`.
//
// Convert runs through the installed command's entry (dist/cli/bin.cjs, which gives Node 64 I/O
// threads); `CONVERT_BEFORE` runs that build's dist/cli/main.js as it was run before. Further
// baselines: the command's start-up (`--version`), the config alone (open it, list its stores, save
// it: what any conversion pays for an expanded config, memory included), and the durability floor
// (N small files written and fsynced 64 at once, one folder sync).
//
// Also one step of `npm run bench:scale` (bench/scale.mjs imports {@link convertRows}), and helper
// processes of it: `node bench/convert-scale.mjs copy SRC DST` copies SRC to DST with `cp -r`;
// `… config CFG OUT` opens CFG, lists its stores and saves it as OUT; `… fsync DIR N` writes N
// small files into DIR and fsyncs them, 64 at once.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import * as os from "node:os";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { enc, grid, probed, zarray } from "./scale-common.mjs";

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const CLI = here("../dist/cli/main.js");
const BIN = here("../dist/cli/bin.cjs");
const SELF = here("./convert-scale.mjs");
const CHUNK = 16;

/** Builds `root/dir` and `root/zip`: the same composition of n index stores as directories and as zips. */
export async function build(root, n) {
  const [s0, s1] = grid(n);
  const node = await import("shardedstore/node");
  const chunk = new Uint8Array(CHUNK).fill(7);
  const indexMeta = zarray([CHUNK], [CHUNK]);
  const base = (prefix) => {
    mkdirSync(path.join(prefix, "base.zarr/a"), { recursive: true });
    writeFileSync(path.join(prefix, "base.zarr/.zgroup"), enc({ zarr_format: 2 }));
    writeFileSync(path.join(prefix, "base.zarr/a/.zarray"), zarray([s0, s1, CHUNK], [1, 1, CHUNK]));
  };
  const make = (prefix, factory) =>
    new node.ShardedStore(new node.DirectoryStore(path.join(prefix, "base.zarr")), {
      arrayShards: { a: { dims: 2, factory: factory(path.join(prefix, "a")) } },
    });
  const dir = path.join(root, "dir");
  base(dir);
  for (let i = 0; i < s0; i++) {
    mkdirSync(path.join(dir, `a/${i}`), { recursive: true });
    for (let j = 0; j < s1; j++) {
      const s = path.join(dir, `a/${i}/${j}.zarr`);
      mkdirSync(s);
      writeFileSync(path.join(s, ".zarray"), indexMeta);
      writeFileSync(path.join(s, "0"), chunk);
    }
  }
  const zip = path.join(root, "zip");
  base(zip);
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
  for (const [prefix, factory] of [
    [dir, node.arrayShardDirectoryStore],
    [zip, node.arrayShardZipStore],
  ]) {
    const store = make(prefix, factory);
    await node.saveShardedStore(store, path.join(prefix, "composition.json"), { form: "expanded" });
    // The same composition in compact form (factory + index boxes): O(1) to open.
    await node.saveShardedStore(store, path.join(prefix, "compact.json"), { form: "compact" });
    await store.close();
  }
  return { dir, zip, grid: [s0, s1] };
}

/** Runs `node args…` in a fresh process with the probe preloaded; wall time, max RSS, peak fds. */
export function measure(args, limit = 256) {
  // The CPU time (user + system, children included): on a shared machine the wall time also
  // measures the other processes.
  const r = probed(args, { limit, cpu: true });
  const { ok, wallMs, cpuMs, probe, stderr } = r;
  const text = (ok ? r.stdout : `${stderr}\n${r.stdout}`).trim();
  return {
    ok,
    wallMs,
    cpuMs,
    rssMiB: probe ? probe.maxRSS / 2 ** 20 : null,
    fds: probe?.peakFds ?? null,
    detail: ok ? text.split("\n").pop() : text.slice(0, 400),
  };
}

const fmt = (x, d = 0) => (x === null || x === undefined ? "—" : x.toFixed(d));

/**
 * The convert rows for one size: for each kind, convert (and resumed) beside a plain copy and a
 * merge of the same data. Returns rows `{ n, op, ours, base, ratio }` as bench/scale.mjs reports them.
 */
export function convertRows(
  n,
  b,
  root,
  { concurrencies = [null], kinds = ["dir", "zip"], before = null, log = console.log } = {},
) {
  const rows = [];
  const fixed = (op, m) => {
    rows.push({ n, op, ours: m, base: m, ratio: null, cpuRatio: null });
    log(
      `${String(n).padStart(7)}  ${op.padEnd(40)} ${fmt(m.wallMs / n, 3).padStart(7)} ms/store wall ${fmt(m.cpuMs === null ? null : m.cpuMs / n, 3).padStart(7)} CPU ${fmt(m.rssMiB).padStart(5)} MiB${m.ok ? "" : `\n         FAILED ${m.detail}`}`,
    );
  };
  fixed("start-up: shardedstore --version", measure([BIN, "--version"]));
  const syncDir = path.join(root, "fsync-floor");
  fixed("N small files written + fsynced, 64 at once", measure([SELF, "fsync", syncDir, String(n)]));
  rmSync(syncDir, { recursive: true, force: true });
  for (const kind of kinds) {
    const cfg = path.join(b[kind], "composition.json");
    const to = kind === "dir" ? "zip" : "dir";
    const copyOut = path.join(root, `copy-${kind}`);
    const copy = measure([SELF, "copy", b[kind], copyOut]);
    rmSync(copyOut, { recursive: true, force: true });
    const mergeOut = path.join(root, `merged-${kind}.zarr`);
    const merge = measure([CLI, "merge", cfg, "--out", mergeOut, "--json"]);
    rmSync(mergeOut, { recursive: true, force: true });
    const row = (op, m) => {
      const ratio = m.ok && copy.ok ? m.wallMs / copy.wallMs : null;
      const cpuRatio = m.cpuMs !== null && copy.cpuMs ? m.cpuMs / copy.cpuMs : null;
      rows.push({ n, op, ours: m, base: copy, ratio, cpuRatio });
      log(
        `${String(n).padStart(7)}  ${op.padEnd(40)} ${fmt(m.wallMs / n, 3).padStart(7)} ms/store wall ${fmt(m.cpuMs === null ? null : m.cpuMs / n, 3).padStart(7)} CPU ${fmt(m.rssMiB).padStart(5)} MiB ${fmt(m.fds).padStart(4)} fds | ×plain copy: ${ratio === null ? "—" : ratio.toFixed(2)} wall, ${cpuRatio === null ? "—" : cpuRatio.toFixed(2)} CPU${m.ok ? "" : `\n         FAILED ${m.detail}`}`,
      );
    };
    row(`${kind}: plain copy (cp -r), baseline`, copy);
    row(`${kind}: merge into one directory`, merge);
    if (before !== null) {
      // The same conversion by another build (e.g. the main branch's dist/cli/main.js).
      const out = path.join(root, `converted-before-${kind}`);
      row(
        `${kind}: convert --to ${to}, before`,
        measure([before, "convert", cfg, "--to", to, "--out", out, "--json"]),
      );
      rmSync(out, { recursive: true, force: true });
    }
    const configOut = path.join(root, `config-${kind}.json`);
    row(`${kind}: open the config, list its stores, save it`, measure([SELF, "config", cfg, configOut]));
    rmSync(configOut, { force: true });
    for (const c of concurrencies) {
      const out = path.join(root, `converted-${kind}`);
      rmSync(out, { recursive: true, force: true });
      const extra = c === null ? [] : ["--concurrency", String(c)];
      const label = `${kind}: convert --to ${to}${c === null ? "" : ` --concurrency ${c}`}`;
      row(label, measure([BIN, "convert", cfg, "--to", to, "--out", out, "--json", ...extra]));
      row(`${label}, resumed`, measure([BIN, "convert", cfg, "--to", to, "--out", out, "--json", ...extra]));
      rmSync(out, { recursive: true, force: true });
      // From the compact config: what the conversion itself keeps per store (nothing is O(n) to open).
      const compact = path.join(b[kind], "compact.json");
      row(
        `${label}, compact config`,
        measure([BIN, "convert", compact, "--to", to, "--out", out, "--json", ...extra]),
      );
      rmSync(out, { recursive: true, force: true });
    }
  }
  return rows;
}

/** Max RSS growth per store between the smallest and the largest size, for each command run at both. */
function slopes(rows) {
  const sizes = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  if (sizes.length < 2) return [];
  const [lo, hi] = [sizes[0], sizes[sizes.length - 1]];
  const out = [
    `Memory per store: max RSS growth from ${lo.toLocaleString("en")} to ${hi.toLocaleString("en")} stores, divided by ${(hi - lo).toLocaleString("en")}.`,
    "",
    "| command | KB per store |",
    "| --- | ---: |",
  ];
  for (const r of rows.filter((x) => x.n === hi)) {
    const l = rows.find((x) => x.n === lo && x.op === r.op);
    if (l?.ours.rssMiB == null || r.ours.rssMiB == null) continue;
    out.push(`| ${r.op} | ${(((r.ours.rssMiB - l.ours.rssMiB) * 1024) / (hi - lo)).toFixed(2)} |`);
  }
  out.push("");
  return out;
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === "copy") {
    const r = spawnSync("cp", ["-r", argv[1], argv[2]], { stdio: "inherit" });
    process.exit(r.status ?? 1);
  }
  if (argv[0] === "config") {
    const node = await import("shardedstore/node");
    const store = await node.openShardedStore(argv[1], { confine: true });
    console.log(`${(await store.shards()).length} stores`);
    await node.saveShardedStore(store, argv[2]);
    await store.close();
    return;
  }
  if (argv[0] === "fsync") {
    // The durability floor of a conversion: each store written is one file fsynced (64 at once, as
    // the command's 64 I/O threads allow), then its folder.
    if (process.env.UV_THREADPOOL_SIZE === undefined) {
      const r = spawnSync(process.execPath, [SELF, ...argv], {
        stdio: "inherit",
        env: { ...process.env, UV_THREADPOOL_SIZE: "64" },
      });
      process.exit(r.status ?? 1);
    }
    const [dir, count] = [argv[1], Number(argv[2])];
    mkdirSync(dir, { recursive: true });
    const bytes = new Uint8Array(200).fill(7);
    let next = 0;
    const one = async () => {
      while (next < count) {
        const fd = openSync(path.join(dir, `${next++}.tmp`), "w");
        writeSync(fd, bytes);
        await new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
        closeSync(fd);
      }
    };
    await Promise.all(Array.from({ length: 64 }, one));
    const d = openSync(dir, "r");
    fsyncSync(d);
    closeSync(d);
    console.log(`${count} files fsynced`);
    return;
  }
  const sizes = argv.filter((a) => /^\d+$/.test(a)).map(Number);
  if (sizes.length === 0) sizes.push(1000, 10_000);
  const concurrencies = process.env.CONVERT_CONCURRENCY
    ? process.env.CONVERT_CONCURRENCY.split(",").map(Number)
    : [null];
  console.log(
    "convert of N index stores (16-byte chunks) beside a plain copy of the same files, same run; fresh process each; ms/store = whole command / N",
  );
  const rows = [];
  for (const n of sizes) {
    const root = path.join(tmpdir(), `ss-convert-scale-${n}`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const t0 = performance.now();
    const b = await build(root, n);
    console.log(
      `${String(n).padStart(7)}  built ${b.grid.join("×")} index stores ×2 in ${fmt((performance.now() - t0) / 1000, 1)} s`,
    );
    rows.push(
      ...convertRows(n, b, root, {
        concurrencies,
        kinds: (process.env.CONVERT_KINDS ?? "dir,zip").split(","),
        before: process.env.CONVERT_BEFORE ?? null,
      }),
    );
    rmSync(root, { recursive: true, force: true });
  }
  const cell = (m) =>
    m.ok
      ? `${fmt(m.wallMs / 1000, 2)} s · ${fmt(m.cpuMs === null ? null : m.cpuMs / 1000, 2)} s CPU · ${fmt(m.rssMiB)} MiB · ${fmt(m.fds)} fds`
      : "**failed**";
  const perStore = (r) =>
    `${fmt(r.ours.wallMs / r.n, 3)} · ${fmt(r.ours.cpuMs === null ? null : r.ours.cpuMs / r.n, 3)}`;
  writeFileSync(
    here("CONVERT.md"),
    [
      "# Convert results",
      "",
      "Written by `npm run bench:convert` (bench/convert-scale.mjs); do not edit by hand. N index stores of",
      "one array sharded over 2 dims (one `.zarray` and one 16-byte chunk each) plus the base, converted",
      "directories → zips and zips → directories by the CLI, each command in a fresh process under",
      "`ulimit -n 256`, beside a plain copy (`cp -r`, no fsync) of the same files in the same run. Wall",
      "time is the whole command (Node's start-up included); CPU is user + system (threads and children",
      "included): on a shared machine the wall time also measures the other processes. Convert runs",
      "through the command's entry (dist/cli/bin.cjs: 64 I/O threads); `before` is the build named by",
      `CONVERT_BEFORE (${process.env.CONVERT_BEFORE ?? "none"}) with its defaults. Floors in the same run: the start-up`,
      "(`--version`), N small files fsynced 64 at once (what a durable zip per store costs at least),",
      "and the config alone (open it, list its stores, save it: what any conversion of an expanded",
      "config pays, in time and memory). `compact config` converts the same composition from its",
      "compact config (factory + index boxes, nothing O(n) to open): what the conversion itself keeps.",
      `Date: ${new Date().toISOString()}; ${os.cpus().length} cores; load average at the end ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(", ")}.`,
      "",
      "| stores | command | wall · CPU · max RSS · peak fds | ms per store (wall · CPU) | ÷ plain copy (wall, CPU) |",
      "| ---: | --- | --- | --- | ---: |",
      ...rows.map(
        (r) =>
          `| ${r.n.toLocaleString("en")} | ${r.op} | ${cell(r.ours)} | ${perStore(r)} | ${r.ratio === null ? "—" : `${r.ratio.toFixed(2)}×, ${r.cpuRatio === null ? "—" : `${r.cpuRatio.toFixed(2)}×`}`} |`,
      ),
      "",
      ...slopes(rows),
    ].join("\n"),
  );
  console.log("wrote bench/CONVERT.md");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
