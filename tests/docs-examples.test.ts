import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Every ```ts / ```js block of README.md and docs/*.md, and every TSDoc @example of src/, compiled
// with the TypeScript compiler against the built package (`shardedstore`, `shardedstore/node`
// resolve to dist/ through its package.json exports). The README's blocks also run.

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("..", import.meta.url));
const FENCE = /^```(ts|js|typescript|javascript)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;

interface Block {
  where: string;
  code: string;
}

function markdownBlocks(): Block[] {
  const files = [
    "README.md",
    ...readdirSync(path.join(REPO, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  const out: Block[] = [];
  for (const f of files) {
    // The blocks of one page are one program: later blocks use what earlier ones made.
    const codes = [...readFileSync(path.join(REPO, f), "utf8").matchAll(FENCE)].map((m) => m[2] as string);
    if (codes.length > 0) out.push({ where: f, code: codes.join("\n") });
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(path.join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** TSDoc `@example` blocks of src/, each with the exports of its own file in scope. */
function tsdocBlocks(): (Block & { file: string })[] {
  const out: (Block & { file: string })[] = [];
  for (const file of sourceFiles(path.join(REPO, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const comment of text.match(/\/\*\*[\s\S]*?\*\//g) ?? []) {
      const body = comment
        .split("\n")
        .map((l) => l.replace(/^\s*\/?\*+\/?\s?/, ""))
        .join("\n");
      for (const m of body.matchAll(FENCE)) {
        const line = text.slice(0, text.indexOf(comment)).split("\n").length;
        out.push({ where: `${path.relative(REPO, file)}:${line}`, code: m[2] as string, file });
      }
    }
  }
  return out;
}

let work: string;
beforeAll(async () => {
  expect(existsSync(path.join(REPO, "dist/node.d.ts")), "run npm run build first").toBe(true);
  work = await mkdtemp(path.join(tmpdir(), "ss-docs-"));
  await mkdir(path.join(work, "node_modules/@types"), { recursive: true });
  await symlink(REPO, path.join(work, "node_modules/shardedstore"));
  await mkdir(path.join(work, "node_modules/@aws-sdk"), { recursive: true });
  for (const dep of ["zarrita", "@types/node", "tsx", "@aws-sdk/client-s3"]) {
    await symlink(path.join(REPO, "node_modules", dep), path.join(work, "node_modules", dep));
  }
  await writeFile(path.join(work, "package.json"), JSON.stringify({ type: "module" }));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  types: ["node"],
  skipLibCheck: true,
  allowJs: true,
  checkJs: true,
};

/** `fromSource`: `shardedstore` and `shardedstore/node` resolve to src/ (TSDoc examples sit beside internals). */
function compile(files: string[], fromSource = false): readonly ts.Diagnostic[] {
  const paths = fromSource
    ? {
        shardedstore: [path.join(REPO, "src/index.ts")],
        "shardedstore/node": [path.join(REPO, "src/node.ts")],
      }
    : undefined;
  const program = ts.createProgram(files, {
    ...OPTIONS,
    typeRoots: [path.join(work, "node_modules/@types")],
    ...(paths ? { paths } : {}),
  });
  const wanted = new Set(files);
  return ts.getPreEmitDiagnostics(program).filter((d) => d.file === undefined || wanted.has(d.file.fileName));
}

function format(d: ts.Diagnostic): string {
  const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
  if (!d.file || d.start === undefined) return msg;
  const { line } = d.file.getLineAndCharacterOfPosition(d.start);
  return `${path.basename(d.file.fileName)}:${line + 1}: ${msg}`;
}

/** Names a block uses without declaring (TS2304 and TS2552): declared as `any` for fragments. */
function freeNames(diags: readonly ts.Diagnostic[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const d of diags) {
    if ((d.code !== 2304 && d.code !== 2552) || !d.file) continue;
    const name = /Cannot find name '([^']+)'/.exec(ts.flattenDiagnosticMessageText(d.messageText, "\n"))?.[1];
    if (!name) continue;
    const set = out.get(d.file.fileName) ?? new Set<string>();
    set.add(name);
    out.set(d.file.fileName, set);
  }
  return out;
}

describe("code in the docs", () => {
  it("every ts/js block of README.md and docs/ compiles against the built package", async () => {
    const blocks = markdownBlocks();
    expect(blocks.map((b) => b.where)).toContain("README.md");
    const files: string[] = [];
    for (const [i, b] of blocks.entries()) {
      const f = path.join(work, `md${i}-${b.where.replace(/\W/g, "_")}.ts`);
      await writeFile(f, `${b.code}\nexport {};\n`);
      files.push(f);
    }
    expect(compile(files).map(format)).toEqual([]);
  }, 120_000);

  it("the README's blocks run (the library example writes and reopens a composition)", async () => {
    const readme = markdownBlocks().find((b) => b.where === "README.md") as Block;
    const dir = path.join(work, "run-readme");
    await mkdir(dir);
    await symlink(path.join(work, "node_modules"), path.join(dir, "node_modules"));
    await writeFile(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    await writeFile(
      path.join(dir, "readme.ts"),
      `${readme.code}\nconsole.log(JSON.stringify(await again.shards().then((s) => s.length)));\n`,
    );
    const { stdout } = await run("node", ["--import", "tsx", "readme.ts"], { cwd: dir });
    // 1 base + 1 group shard + 12 index stores of simulation/foo.
    expect(stdout.trim().split("\n").pop()).toBe("14");
    expect(existsSync(path.join(dir, "out/data.json"))).toBe(true);
  }, 120_000);

  it("every TSDoc @example in src/ compiles (fragments get their free names declared)", async () => {
    const blocks = tsdocBlocks();
    expect(blocks.length).toBeGreaterThan(100);
    const files: string[] = [];
    const prelude = (b: Block & { file: string }) =>
      [
        /from "zarrita"/.test(b.code) ? "" : `import * as zarr from "zarrita";`,
        // The file's own exports, as its examples use them.
        `import * as __own from ${JSON.stringify(b.file.replace(/\.ts$/, ".js"))};`,
        `export {};`,
      ].join("\n");
    for (const [i, b] of blocks.entries()) {
      const f = path.join(work, `ex${i}.ts`);
      files.push(f);
      await writeFile(f, `${prelude(b)}\n${b.code}\n`);
    }
    // Pass 1 finds the names each fragment takes from its context; pass 2 declares them.
    const free = freeNames(compile(files, true));
    const own = new Map<string, string[]>();
    for (const [i, b] of blocks.entries()) {
      const f = files[i] as string;
      const names = free.get(f) ?? new Set<string>();
      const exportsOf = own.get(b.file) ?? exportNames(b.file);
      own.set(b.file, exportsOf);
      const fromOwn = [...names].filter((n) => exportsOf.includes(n));
      const fromPkg = [...names].filter((n) => !exportsOf.includes(n) && PUBLIC.has(n));
      const rest = [...names].filter((n) => !exportsOf.includes(n) && !PUBLIC.has(n));
      const lines = [
        /from "zarrita"/.test(b.code) ? "" : `import * as zarr from "zarrita";`,
        fromOwn.length
          ? `import { ${fromOwn.join(", ")} } from ${JSON.stringify(b.file.replace(/\.ts$/, ".js"))};`
          : "",
        fromPkg.length ? `import { ${fromPkg.join(", ")} } from "shardedstore/node";` : "",
        ...rest.map((n) =>
          /^[A-Z]/.test(n) && !/^[A-Z_]+$/.test(n)
            ? `declare const ${n}: any; type ${n} = any;`
            : `declare const ${n}: any;`,
        ),
        "export {};",
      ];
      await writeFile(f, `${lines.filter(Boolean).join("\n")}\n${b.code}\n`);
    }
    const errors = compile(files, true).map((d) => {
      const i = files.indexOf(d.file?.fileName ?? "");
      return `${blocks[i]?.where ?? "?"}: ${format(d)}`;
    });
    expect(errors).toEqual([]);
  }, 300_000);
});

const PUBLIC = new Set(exportNamesOfDts(path.join(REPO, "dist/node.d.ts")));

function exportNamesOfDts(file: string): string[] {
  if (!existsSync(file)) return [];
  const program = ts.createProgram([file], { ...OPTIONS, noEmit: true });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(file);
  const sym = sf && checker.getSymbolAtLocation(sf);
  return sym ? checker.getExportsOfModule(sym).map((s) => s.getName()) : [];
}

function exportNames(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [
    ...text.matchAll(
      /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|class|const|let|interface|type|enum|abstract class)\s+([A-Za-z_$][\w$]*)/gm,
    ),
  ].map((m) => m[1] as string);
}
