import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { enc, grid, probed, zarray } from "./scale-common.mjs";

const here = (f) => fileURLToPath(new URL(f, import.meta.url));
const CLI = here("../dist/cli/main.js");
const ULIMIT = 256;
const CHUNK = 16;
/** Runs of each timed command; the median is shown (SCALE_REPEAT to change). */
const REPEAT = Number(process.env.SCALE_REPEAT ?? 3);
/** LIST_CLI=0 leaves out the CLI commands (e.g. at 10^5, where bench/SCALE.md has them). */
const LIST_CLI = process.env.LIST_CLI !== "0";

/** Writes the files directly (the layout our stores write): single store, dir and zip compositions. */
async function build(root, n) {
  const [s0, s1] = grid(n);
  const node = await import("shardedstore/node");
  const chunk = new Uint8Array(CHUNK).fill(7);
  const single = path.join(root, "single.zarr");
  mkdirSync(path.join(single, "a"), { recursive: true });
  writeFileSync(path.join(single, ".zgroup"), enc({ zarr_format: 2 }));
  writeFileSync(path.join(single, "a/.zarray"), zarray([s0, s1, CHUNK], [1, 1, CHUNK]));
  for (let i = 0; i < s0; i++)
    for (let j = 0; j < s1; j++) writeFileSync(path.join(single, `a/${i}.${j}.0`), chunk);
  const indexMeta = zarray([CHUNK], [CHUNK]);
  const base = (dir) => {
    mkdirSync(path.join(dir, "base.zarr/a"), { recursive: true });
    writeFileSync(path.join(dir, "base.zarr/.zgroup"), enc({ zarr_format: 2 }));
    writeFileSync(path.join(dir, "base.zarr/a/.zarray"), zarray([s0, s1, CHUNK], [1, 1, CHUNK]));
  };
  const make = (prefix, factory) =>
    new node.ShardedStore(new node.DirectoryStore(path.join(prefix, "base.zarr")), {
      arrayShards: { a: { dims: 2, factory: factory(path.join(prefix, "a")) } },
    });
  const save = async (store, file) => {
    await node.saveShardedStore(store, file, { form: "expanded" });
    await node.saveShardedStore(store, file.replace(/\.json$/, ".compact.json"), { form: "compact" });
    await store.close();
  };
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
  await save(make(dir, node.arrayShardDirectoryStore), path.join(dir, "composition.json"));
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
  await save(make(zip, node.arrayShardZipStore), path.join(zip, "composition.json"));
  return { single, dir, zip, grid: [s0, s1] };
}

/** One operation, timed in-process (without Node's start-up or opening the config). */
async function op(name, where) {
  const node = await import("shardedstore/node");
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let keys = 0;
  let openMs = 0;
  if (name === "readdir") {
    keys = (await readdir(where, { recursive: true, withFileTypes: true })).filter(
      (e) => !e.isDirectory(),
    ).length;
  } else if (name === "list-store") {
    for await (const _ of new node.DirectoryStore(where).list()) keys++;
  } else if (name === "list" || name === "list-blocking") {
    // list-blocking: the zip pool in blocking mode, as the CLI's info/ls/verify run it.
    if (name === "list-blocking") node.zipFilePool.blocking = true;
    const store = await node.openShardedStore(where);
    openMs = performance.now() - t0;
    for await (const _ of store.list()) keys++;
    await store.close();
  } else throw new Error(`unknown operation ${name}`);
  const ms = performance.now() - t0 - openMs;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ keys, openMs, ms, cpuMs: (cpu.user + cpu.system) / 1000 }));
}

/** The run of median time among `REPEAT` runs of each command, the commands run in turns (the machine is shared). */
function measureEach(...commands) {
  const runs = commands.map(() => []);
  for (let r = 0; r < REPEAT; r++)
    for (let i = 0; i < commands.length; i++) runs[i].push(measure(commands[i]));
  return runs.map((rs) => {
    const ok = rs.filter((m) => m.ok);
    if (ok.length < rs.length) return rs.find((m) => !m.ok);
    return ok.sort((a, b) => a.ms - b.ms)[Math.floor(ok.length / 2)];
  });
}

/** Runs a command under the descriptor limit with the probe; returns its report. */
function measure(args) {
  const r = probed(args, { limit: ULIMIT, cpu: true });
  const wall = r.wallMs;
  const probe = r.probe;
  const ok = r.ok;
  const last = (ok ? r.stdout : r.stderr).trim().split("\n").pop() ?? "";
  let ms = wall;
  let detail = last.slice(0, 300);
  try {
    const j = JSON.parse(last);
    if (typeof j.ms === "number") ms = j.ms;
    detail = j;
  } catch {
    // a CLI command: timed whole
  }
  return {
    ok,
    ms,
    // CPU time (user + system, thread pool included): in-process for an operation, else the whole command.
    cpuMs: typeof detail === "object" && typeof detail.cpuMs === "number" ? detail.cpuMs : r.cpuMs,
    rssMiB: probe ? probe.maxRSS / 2 ** 20 : null,
    fds: probe?.peakFds ?? null,
    detail,
  };
}

const fmt = (x, d = 0) => (x === null || x === undefined ? "—" : x.toFixed(d));
const cell = (m) =>
  m
    ? `${m.ok ? "" : "**failed** "}${fmt(m.ms / 1000, 2)} s${typeof m.cpuMs === "number" ? ` (cpu ${fmt(m.cpuMs / 1000, 2)} s)` : ""} · ${fmt(m.rssMiB)} MiB · ${fmt(m.fds)} fds`
    : "";

async function main() {
  const keep = process.argv.includes("--keep");
  const sizes = process.argv
    .slice(2)
    .filter((a) => /^\d+$/.test(a))
    .map(Number);
  if (sizes.length === 0) sizes.push(10_000, 100_000);
  const rows = [];
  const row = (n, what, ours, base, baseName) => {
    const speed = ours.ok && base?.ok ? base.ms / ours.ms : null;
    rows.push({ n, what, ours, base, baseName, speed });
    console.log(
      `${String(n).padStart(7)}  ${what.padEnd(40)} ${cell(ours).padEnd(32)} ${baseName.padEnd(26)} ${cell(base).padEnd(32)} ${speed === null ? "" : `speed ${speed.toFixed(2)}×`}`,
    );
    if (!ours.ok) console.log(`         ${JSON.stringify(ours.detail)}`);
  };
  for (const n of sizes) {
    const root = path.join(tmpdir(), `ss-list-${n}`);
    const t0 = performance.now();
    let b;
    if (process.argv.includes("--reuse") && existsSync(path.join(root, "zip", "composition.compact.json"))) {
      b = {
        single: path.join(root, "single.zarr"),
        dir: path.join(root, "dir"),
        zip: path.join(root, "zip"),
        grid: grid(n),
      };
    } else {
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root, { recursive: true });
      b = await build(root, n);
    }
    console.log(
      `${String(n).padStart(7)}  built ${b.grid.join("×")} index stores ×2 in ${fmt((performance.now() - t0) / 1000, 1)} s`,
    );
    const self = here("./list-scale.mjs");
    for (const kind of ["dir", "zip"]) {
      const cfg = path.join(b[kind], "composition.json");
      const compact = path.join(b[kind], "composition.compact.json");
      const [tree, single, expanded, compacted, blocking] = measureEach(
        [self, "--op", "readdir", b[kind]],
        [self, "--op", "list-store", b.single],
        [self, "--op", "list", cfg],
        [self, "--op", "list", compact],
        ...(kind === "zip" ? [[self, "--op", "list-blocking", compact]] : []),
      );
      row(n, `${kind}: fs.readdir(recursive) of the tree`, tree, single, "one store: list()");
      for (const [form, ours] of [
        ["expanded", expanded],
        ["compact", compacted],
        ...(blocking ? [["compact, pool in blocking mode", blocking]] : []),
      ]) {
        row(n, `${kind}: list() every key (${form})`, ours, tree, "fs.readdir(recursive)");
        row(n, `${kind}: list() every key (${form})`, ours, single, "one store: list()");
      }
      for (const [what, args, base, baseName] of LIST_CLI
        ? [
            ["info --json", ["info", "--json", cfg], ["info", "--json", b.single], "one store: info"],
            ["ls", ["ls", cfg], ["ls", b.single], "one store: ls"],
            [
              "verify vs one store",
              ["verify", cfg, b.single],
              ["verify", b.single, b.single],
              "one store vs itself",
            ],
          ]
        : []) {
        const [ours, theirs] = measureEach([CLI, ...args], [CLI, ...base]);
        row(n, `${kind}: shardedstore ${what}`, ours, theirs, baseName);
      }
    }
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
  const measured = sizes.map((n) => n.toLocaleString("en"));
  let kept = [];
  try {
    kept = readFileSync(here("LIST.md"), "utf8")
      .split("\n")
      .filter((l) => /^\| [\d,]+ \|/.test(l) && !measured.some((m) => l.startsWith(`| ${m} |`)));
  } catch {
    // first run
  }
  writeFileSync(
    here("LIST.md"),
    [
      "# Listing at scale",
      "",
      "Written by `npm run bench:list` (bench/list-scale.mjs); do not edit by hand. One array sharded over 2",
      `dims, one index store per chunk row (its metadata + one ${CHUNK}-byte chunk), as directories and as zips.`,
      `Each figure in a fresh process under \`ulimit -n ${ULIMIT}\`: time · max RSS · peak open descriptors.`,
      "list() times exclude opening the config; CLI commands are timed whole (Node's start-up included).",
      "cpu = user + system CPU time (thread pool included) of the operation, or of the whole command for the CLI:",
      'the machine is shared, so CPU time is the steadier figure. "pool in blocking mode": `zipFilePool.blocking`,',
      "as `info`/`ls`/`verify` run it (synchronous open/stat/close and end-record read of each archive).",
      "speed = baseline time / our time (≥ 0.8× against `fs.readdir(recursive)` is the target for list()).",
      `Date: ${new Date().toISOString()}.`,
      "",
      "| index stores | operation | ours | baseline | baseline figure | speed |",
      "| ---: | --- | --- | --- | --- | ---: |",
      ...kept,
      ...rows.map(
        (r) =>
          `| ${r.n.toLocaleString("en")} | ${r.what} | ${cell(r.ours)} | ${r.baseName} | ${cell(r.base)} | ${r.speed === null ? "" : `${r.speed.toFixed(2)}×`} |`,
      ),
      "",
    ].join("\n"),
  );
  console.log("wrote bench/LIST.md");
}

const at = process.argv.indexOf("--op");
if (at >= 0) await op(process.argv[at + 1], process.argv[at + 2]);
else if (process.argv.includes("--build")) {
  const n = Number(process.argv[process.argv.indexOf("--build") + 1]);
  const root = path.join(tmpdir(), `ss-list-${n}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  console.log(JSON.stringify(await build(root, n)));
} else await main();
