// The module graph of src/ has no import cycles; the core store imports no config format and no transform.
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../src");

/** Runtime imports of a TypeScript module (type-only imports and specifiers are erased by tsc). */
function runtimeImports(source: string): string[] {
  const out: string[] = [];
  const re =
    /^\s*(import|export)\s+(type\s+)?([^;"']*?)\s*from\s*["']([^"']+)["'];?|^\s*import\s*["']([^"']+)["'];?/gm;
  for (const m of source.matchAll(re)) {
    if (m[5] !== undefined) {
      out.push(m[5]);
      continue;
    }
    if (m[2] !== undefined) continue; // import type { … } / export type { … }
    const clause = m[3]!;
    const braces = clause.match(/\{([\s\S]*)\}/);
    const outside = clause
      .replace(/\{[\s\S]*\}/, "")
      .replace(/,/g, "")
      .trim();
    const named = braces
      ? braces[1]!
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
    // Kept when something outside braces is imported (default, * as ns, export *) or any named
    // specifier is not `type X`.
    if (outside !== "" || named.some((n) => !n.startsWith("type ")) || (braces && named.length === 0)) {
      out.push(m[4]!);
    }
  }
  return out;
}

async function graph(): Promise<Map<string, string[]>> {
  const files = (await readdir(SRC, { recursive: true })).filter(
    (f) => f.endsWith(".ts") && !f.endsWith(".d.ts"),
  );
  const g = new Map<string, string[]>();
  for (const f of files) {
    const text = await readFile(path.join(SRC, f), "utf8");
    const deps = runtimeImports(text)
      .filter((s) => s.startsWith("."))
      .map((s) =>
        path.relative(SRC, path.resolve(path.dirname(path.join(SRC, f)), s)).replace(/\.js$/, ".ts"),
      );
    g.set(f, deps);
  }
  return g;
}

/** Every cycle found by a depth-first search (each as a path that returns to its start). */
function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const d of g.get(n) ?? []) {
      if (state.get(d) === "open") found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of [...g.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

describe("module graph", () => {
  it("finds runtime imports and ignores type-only ones", () => {
    const deps = runtimeImports(
      'import type { A } from "./a.js";\nimport { type B } from "./b.js";\nimport { type C, d } from "./c.js";\nimport "./e.js";\nexport * from "./f.js";\nexport type { G } from "./g.js";\nimport * as h from "./h.js";',
    );
    expect(deps).toEqual(["./c.js", "./e.js", "./f.js", "./h.js"]);
    expect(
      cycles(
        new Map([
          ["a", ["b"]],
          ["b", ["a"]],
        ]),
      ),
    ).toEqual([["a", "b", "a"]]);
  });

  it("src/ has no import cycles", async () => {
    const g = await graph();
    expect(g.size).toBeGreaterThan(30);
    expect(cycles(g)).toEqual([]);
  });

  it("the core store imports neither the config codec nor mapShards, directly or not", async () => {
    const g = await graph();
    const reach = new Set<string>();
    const walk = (n: string) => {
      for (const d of g.get(n) ?? []) {
        if (reach.has(d)) continue;
        reach.add(d);
        walk(d);
      }
    };
    walk("sharded-store.ts");
    expect(
      [...reach].filter((f) => f.startsWith("config/") || f === "map-shards.ts" || f.startsWith("cli/")),
    ).toEqual([]);
  });
});
