#!/usr/bin/env node
// `npm run mutate [-- src/a.ts src/b.ts …]`: runs Stryker (vitest runner, per-test coverage) over the
// core modules, or only the files given, and writes bench/MUTATION.md. Results are kept per file in
// bench/mutation-results.json, so running one file at a time updates that file's rows only.
// bench/mutation-equivalents.md (hand-maintained) is copied into the report unchanged.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = `.tmp/mutation-${process.pid}`;
const reportJson = join(root, outDir, "report.json");
const resultsPath = join(root, "bench/mutation-results.json");
const equivalentsPath = join(root, "bench/mutation-equivalents.md");
const outPath = join(root, "bench/MUTATION.md");

// Arguments: source files to mutate, and Stryker options passed through (`--concurrency 2`,
// `--concurrency=2`); `--report-only` rewrites MUTATION.md from the saved results; `--tests a,b`
// runs only those test files (globs, comma-separated) instead of the whole mutate suite — quicker,
// and a lower bound on the score (a mutant only another suite kills counts as surviving).
const args = process.argv.slice(2);
const files = [];
const passThrough = [];
let tests = "";
// `--survivors`: mutate only the lines of each given file's saved surviving mutants (typically with
// a slower `--tests` suite than the first run's) and merge: a survivor this run kills counts as killed.
let onlySurvivors = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--survivors") onlySurvivors = true;
  else if (a === "--tests" && i + 1 < args.length) tests = args[++i];
  else if (a.startsWith("--tests=")) tests = a.slice("--tests=".length);
  else if (!a.startsWith("-")) files.push(a);
  else if (a.includes("=") || a === "--report-only" || i + 1 >= args.length || args[i + 1].startsWith("-"))
    passThrough.push(a);
  else passThrough.push(a, args[++i]);
}
const onlyReport = passThrough.includes("--report-only");

if (!onlyReport) {
  for (const f of files) {
    if (!existsSync(join(root, f.replace(/:[\d:-]+$/, "")))) {
      console.error(`mutate: no such file ${f}`);
      process.exit(2);
    }
  }
  rmSync(reportJson, { force: true });
  mkdirSync(dirname(reportJson), { recursive: true });
  const strykerArgs = ["run", "stryker.config.mjs", ...passThrough.filter((a) => a !== "--report-only")];
  let targets = files;
  if (onlySurvivors) {
    const saved = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, "utf8")) : {};
    const lines = (f) => [...new Set((saved[f]?.survivors ?? []).map((m) => m.line))];
    targets = files.flatMap((f) => lines(f).map((l) => `${f}:${l}-${l}`));
    if (targets.length === 0) {
      console.error("mutate: no saved survivors in the files given");
      process.exit(2);
    }
  }
  if (targets.length > 0) strykerArgs.push("--mutate", targets.join(","));
  const bin = join(root, "node_modules/.bin/stryker");
  const env = { ...process.env, MUTATE_OUT: outDir, MUTATE_ROOT: root, MUTATE_TESTS: tests };
  const r = spawnSync(bin, strykerArgs, { cwd: root, stdio: "inherit", env });
  if (r.status !== 0 || !existsSync(reportJson)) {
    console.error(`mutate: stryker failed (exit ${r.status})`);
    process.exit(r.status || 1);
  }
}

const git = (...a) => spawnSync("git", a, { cwd: root, encoding: "utf8" }).stdout.trim();
const commit = git("rev-parse", "--short", "HEAD");
const dirty = git("status", "--porcelain", "--", "src", "tests") !== "";
const suite = tests === "" ? "" : `, ${tests.split(",").length} test files`;
const stamp = `${new Date().toISOString().slice(0, 16)}Z, ${commit}${dirty ? "+changes" : ""}${suite}`;

// Read the saved results only now: another run may have finished meanwhile.
const results = existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, "utf8")) : {};
if (!onlyReport) {
  const report = JSON.parse(readFileSync(reportJson, "utf8"));
  for (const [abs, file] of Object.entries(report.files)) {
    const name = relative(root, join(root, abs)).replaceAll("\\", "/");
    const count = {};
    const survivors = [];
    for (const m of file.mutants) {
      count[m.status] = (count[m.status] ?? 0) + 1;
      if (m.status === "Survived" || m.status === "NoCoverage") {
        const lines = file.source.split("\n");
        const { start, end } = m.location;
        const original =
          start.line === end.line
            ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
            : `${lines[start.line - 1].slice(start.column - 1)}…`;
        survivors.push({
          line: start.line,
          column: start.column,
          mutator: m.mutatorName,
          status: m.status,
          original: original.trim(),
          replacement: m.replacement ?? "",
        });
      }
    }
    survivors.sort((a, b) => a.line - b.line || a.column - b.column);
    const before = results[name];
    if (onlySurvivors && before !== undefined) {
      // Only the earlier survivors change: each takes its status in this run (same place, mutator
      // and replacement); the mutants the earlier run killed stay killed.
      const key = (m) => `${m.line}:${m.column}:${m.mutator}:${m.replacement}`;
      const now = new Map();
      for (const m of file.mutants)
        now.set(
          key({
            line: m.location.start.line,
            column: m.location.start.column,
            mutator: m.mutatorName,
            replacement: m.replacement ?? "",
          }),
          m.status,
        );
      const merged = { ...before.count };
      const still = [];
      for (const m of before.survivors) {
        const status = now.get(key(m)) ?? m.status;
        merged[m.status]--;
        merged[status] = (merged[status] ?? 0) + 1;
        if (status === "Survived" || status === "NoCoverage") still.push({ ...m, status });
      }
      results[name] = { run: `${before.run}; survivors again ${stamp}`, count: merged, survivors: still };
      if (tests !== "") results[name].survivorTests = tests;
    } else results[name] = { run: stamp, count, survivors, ...(tests === "" ? {} : { tests }) };
  }
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 1)}\n`);
  rmSync(join(root, outDir), { recursive: true, force: true });
}

const short = (s, n = 60) => {
  const one = s.replace(/\s+/g, " ");
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
};
const code = (s) => `\`${short(s).replaceAll("`", "'").replaceAll("|", "\\|")}\``;

const out = [
  "# Mutation testing of the core",
  "",
  "Written by `npm run mutate` (scripts/mutate.mjs: Stryker 9, vitest runner, per-test coverage,",
  "suite `vitest.mutate.config.ts`). `npm run mutate -- src/range.ts` reruns one file and updates its",
  "rows; the equivalent-mutant section is copied from `bench/mutation-equivalents.md` (edit it there).",
  "`--tests a,b` narrows the suite (quicker on 2 shared cores; a lower bound on the score); `--survivors`",
  "then reruns only the saved survivors' lines, usually with a slower suite, and merges the result.",
  "Score = killed (incl. timeouts) / (killed + survived + no coverage).",
  "",
  "| file | mutants | killed | survived | no coverage | score | run |",
  "|---|---|---|---|---|---|---|",
];
const names = Object.keys(results).sort();
for (const name of names) {
  const { count, run } = results[name];
  const killed = (count.Killed ?? 0) + (count.Timeout ?? 0);
  const survived = count.Survived ?? 0;
  const noCov = count.NoCoverage ?? 0;
  const valid = killed + survived + noCov;
  const score = valid === 0 ? "n/a" : `${((100 * killed) / valid).toFixed(1)} %`;
  out.push(`| ${name} | ${valid} | ${killed} | ${survived} | ${noCov} | ${score} | ${run} |`);
}
const narrowed = names.filter(
  (n) => results[n].tests !== undefined || results[n].survivorTests !== undefined,
);
if (narrowed.length > 0) {
  out.push(
    "",
    "Runs marked `N test files` used a narrowed suite (`--tests`; a lower bound on the score):",
    "",
  );
  for (const n of narrowed) {
    const { tests: t, survivorTests: st } = results[n];
    if (t) out.push(`- ${n}: ${t.split(",").join(", ")}`);
    if (st) out.push(`- ${n}, survivors again: ${st.split(",").join(", ")}`);
  }
}
out.push("", "## Surviving mutants", "");
out.push("Each is either listed below as equivalent (with the reason) or is a gap still to close.", "");
for (const name of names) {
  const { survivors } = results[name];
  out.push(`### ${name}`, "");
  if (survivors.length === 0) {
    out.push("None.", "");
    continue;
  }
  out.push("| line:col | mutator | status | original | replacement |", "|---|---|---|---|---|");
  for (const s of survivors) {
    out.push(
      `| ${s.line}:${s.column} | ${s.mutator} | ${s.status} | ${code(s.original)} | ${code(s.replacement)} |`,
    );
  }
  out.push("");
}
out.push("## Equivalent mutants (hand-maintained)", "");
out.push(
  existsSync(equivalentsPath)
    ? readFileSync(equivalentsPath, "utf8")
        .replace(/^#.*\n+/, "")
        .trimEnd()
    : "_bench/mutation-equivalents.md is missing._",
);
writeFileSync(outPath, `${out.join("\n")}\n`);
console.log(`mutate: wrote ${relative(root, outPath)}`);
