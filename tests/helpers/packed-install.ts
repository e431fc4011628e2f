// The package as users get it: built, packed with `npm pack`, installed with zarrita into an empty
// folder. Done once per source state (cached in the temp folder, keyed by a hash of everything that
// goes into the tarball) and shared by every test file, even when they run in parallel.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
/** What goes into the build and the tarball. */
const INPUTS = ["package.json", "tsconfig.json", "tsconfig.build.json", "README.md", "scripts", "src"];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PackedInstall {
  /** The folder the tarball is installed in (it has `node_modules/.bin/shardedstore`). */
  dir: string;
  /** The tarball's path. */
  tarball: string;
  /** Runs `npx shardedstore …args` in `cwd` (default: the install folder). npm adds ~2 s a call. */
  npx(args: readonly string[], options?: { cwd?: string; input?: string }): Promise<RunResult>;
  /**
   * Runs the bin npx runs, `node_modules/.bin/shardedstore` (the installed symlink, executed
   * through its shebang), without npm's start-up cost.
   */
  shardedstore(args: readonly string[], options?: { cwd?: string; input?: string }): Promise<RunResult>;
  /** Runs `node` with arguments in the install folder (to import the package as users do). */
  node(args: readonly string[], options?: { cwd?: string }): Promise<RunResult>;
  /** A new empty folder inside the install, for a test's files (npx finds the bin from there). */
  workDir(name: string): Promise<string>;
}

/** The environment of a user's shell: none of npm's or vitest's variables from this process. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("npm_") || k.startsWith("VITEST") || k === "NODE_OPTIONS" || k === "INIT_CWD") continue;
    env[k] = v;
  }
  env.NO_COLOR = "1";
  return env;
}

/**
 * Runs a command and collects its output.
 *
 * @example
 * ```ts
 * const { code, stdout } = await exec("npm", ["--version"], "/tmp");
 * ```
 */
export function exec(
  cmd: string,
  args: readonly string[],
  cwd: string,
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { cwd, env: options.env ?? userEnv(), stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

async function mustRun(cmd: string, args: readonly string[], cwd: string): Promise<string> {
  const r = await exec(cmd, args, cwd);
  if (r.code !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}) in ${cwd}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

async function hashInputs(): Promise<string> {
  const h = createHash("sha256");
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(REPO, rel);
    const st = await stat(abs).catch(() => null);
    if (st === null) return;
    if (st.isDirectory()) {
      for (const name of (await readdir(abs)).sort()) await walk(path.join(rel, name));
      return;
    }
    h.update(rel)
      .update("\0")
      .update(await readFile(abs))
      .update("\0");
  };
  for (const i of INPUTS) await walk(i);
  const zarrita = JSON.parse(await readFile(path.join(REPO, "node_modules/zarrita/package.json"), "utf8"));
  h.update(`zarrita@${zarrita.version}`);
  return h.digest("hex").slice(0, 16);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function build(root: string): Promise<void> {
  // Build in a copy of the sources so the repository's own dist/ is never rewritten under other tests.
  const stage = path.join(root, "stage");
  await rm(stage, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });
  for (const i of INPUTS) await cp(path.join(REPO, i), path.join(stage, i), { recursive: true });
  await symlink(path.join(REPO, "node_modules"), path.join(stage, "node_modules"), "dir");
  await mustRun("npm", ["run", "build"], stage);
  const packed = await mustRun("npm", ["pack", "--ignore-scripts", "--pack-destination", root], stage);
  const tarball = path.join(root, packed.trim().split("\n").pop()!.trim());
  const app = path.join(root, "app");
  await rm(app, { recursive: true, force: true });
  await mkdir(app, { recursive: true });
  await writeFile(
    path.join(app, "package.json"),
    `${JSON.stringify({ name: "shardedstore-user", private: true, type: "module" }, null, 2)}\n`,
  );
  const zarrita = JSON.parse(await readFile(path.join(REPO, "node_modules/zarrita/package.json"), "utf8"));
  await mustRun(
    "npm",
    ["install", tarball, `zarrita@${zarrita.version}`, "--no-audit", "--no-fund", "--prefer-offline"],
    app,
  );
  await writeFile(path.join(root, "tarball"), tarball);
  await writeFile(path.join(root, "READY"), new Date().toISOString());
  await pruneStale(root);
}

/** Removes installs of earlier source states (untouched for an hour, so no run is using them). */
async function pruneStale(current: string): Promise<void> {
  const parent = path.dirname(current);
  for (const name of await readdir(parent)) {
    const p = path.join(parent, name);
    if (!name.startsWith("shardedstore-packed-") || name.endsWith(".lock") || p === current) continue;
    const st = await stat(p).catch(() => null);
    if (st !== null && Date.now() - st.mtimeMs > 60 * 60_000) await rm(p, { recursive: true, force: true });
  }
}

let cached: Promise<PackedInstall> | null = null;

/**
 * Builds, packs and installs the package once per source state and returns helpers to run it. Safe
 * to call from parallel test files: one builds while the others wait for it.
 *
 * @example
 * ```ts
 * const pkg = await packedInstall();
 * const { code, stdout } = await pkg.shardedstore(["--help"]);
 * ```
 */
export function packedInstall(): Promise<PackedInstall> {
  cached ??= (async () => {
    const root = path.join(tmpdir(), `shardedstore-packed-${await hashInputs()}`);
    const lock = `${root}.lock`;
    const ready = path.join(root, "READY");
    const deadline = Date.now() + 5 * 60_000;
    while (!(await stat(ready).catch(() => null))) {
      const got = await mkdir(lock).then(
        () => true,
        () => false,
      );
      if (got) {
        try {
          await mkdir(root, { recursive: true });
          if (!(await stat(ready).catch(() => null))) await build(root);
        } finally {
          await rm(lock, { recursive: true, force: true });
        }
        break;
      }
      // A lock older than the deadline is from a crashed run.
      const st = await stat(lock).catch(() => null);
      if (st !== null && Date.now() - st.mtimeMs > 5 * 60_000)
        await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await sleep(500);
    }
    const app = path.join(root, "app");
    const tarball = (await readFile(path.join(root, "tarball"), "utf8")).trim();
    await mkdir(path.join(app, "work"), { recursive: true });
    return {
      dir: app,
      tarball,
      npx: async (args, options = {}) => {
        const r = await exec("npx", ["--no", "--", "shardedstore", ...args], options.cwd ?? app, {
          ...(options.input !== undefined ? { input: options.input } : {}),
        });
        // npx's own warnings about this machine's npm config are not the CLI's output.
        return { ...r, stderr: r.stderr.replace(/^npm warn .*\n/gm, "") };
      },
      shardedstore: (args, options = {}) =>
        exec(path.join(app, "node_modules/.bin/shardedstore"), args, options.cwd ?? app, {
          ...(options.input !== undefined ? { input: options.input } : {}),
        }),
      node: (args, options = {}) => exec(process.execPath, args, options.cwd ?? app),
      workDir: async (name) => mkdtemp(path.join(app, "work", `${name}-`)),
    };
  })();
  return cached;
}
