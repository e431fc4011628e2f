import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryStore } from "../../src/directory-store.js";
import { isShardedStoreError } from "../../src/errors.js";
import type { AbsolutePath } from "../../src/types.js";

// Random trees inside a root, with symlinked folders and files that point inside the root or
// outside it; random keys through them. The oracle is the OS's own realpath of the path asked for.

const SEG = fc.constantFrom("a", "b", "c");
type Kind = "dir" | "file" | "dirLinkIn" | "dirLinkOut" | "fileLinkIn" | "fileLinkOut";
const NODE = fc.record({
  at: fc.array(SEG, { minLength: 1, maxLength: 3 }),
  kind: fc.constantFrom<Kind>("dir", "dir", "file", "dirLinkIn", "dirLinkOut", "fileLinkIn", "fileLinkOut"),
});
const KEY = fc.tuple(fc.array(SEG, { minLength: 0, maxLength: 3 }), fc.constantFrom("x", "y", "a"));
const OP = fc.constantFrom("set", "get", "getRange", "delete", "getConfined", "getRangeConfined", "list");

let tmp: string;
let run = 0;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "ss-symlinks-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

function isDirReal(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Builds the layout; returns the root, the outside folder and its real path. */
function build(nodes: { at: string[]; kind: Kind }[]) {
  const base = path.join(tmp, `r${run++}`);
  const root = path.join(base, "root");
  const outside = path.join(base, "outside");
  mkdirSync(path.join(root, "inner"), { recursive: true });
  writeFileSync(path.join(root, "inner", "x"), "inner-x");
  mkdirSync(path.join(outside, "sub"), { recursive: true });
  writeFileSync(path.join(outside, "x"), "outside-x");
  writeFileSync(path.join(outside, "a"), "outside-a");
  writeFileSync(path.join(outside, "sub", "y"), "outside-sub-y");
  for (const { at, kind } of nodes) {
    const p = path.join(root, ...at);
    const parent = path.dirname(p);
    // Only create inside real folders of the root, never through a link.
    if (
      existsSync(p) ||
      lstatExists(p) ||
      !isDirReal(parent) ||
      !realpathSync(parent).startsWith(realpathSync(root))
    )
      continue;
    if (kind === "dir") mkdirSync(p);
    else if (kind === "file") writeFileSync(p, `file:${at.join("/")}`);
    else if (kind === "dirLinkIn") symlinkSync(path.join(root, "inner"), p);
    else if (kind === "dirLinkOut") symlinkSync(outside, p);
    else if (kind === "fileLinkIn") symlinkSync(path.join(root, "inner", "x"), p);
    else symlinkSync(path.join(outside, "x"), p);
  }
  return { root, outside };
}

function lstatExists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function snapshot(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) snapshot(p, out);
    else out.set(p, readFileSync(p, "utf8"));
  }
  return out;
}

/** Does the real path of `p`, or of its deepest existing ancestor, leave `root`? */
function escapes(p: string, root: string): boolean {
  const realRoot = realpathSync(root);
  const at = deepest(p);
  let real: string;
  try {
    real = realpathSync(at);
  } catch {
    return false; // a dangling link: nothing is read or written through it
  }
  return real !== realRoot && !real.startsWith(realRoot + path.sep);
}
function deepest(p: string): string {
  let at = p;
  while (!lstatExists(at)) at = path.dirname(at);
  return at;
}
function isDirOrLinkToDir(p: string): boolean {
  try {
    return realpathSync(p) !== "" && readdirSync(p) !== undefined;
  } catch {
    return false;
  }
}

function readFollowing(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

async function outcome(
  fn: () => Promise<unknown>,
): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function expectEscapeError(r: { ok: boolean; error?: unknown }, what: string): void {
  expect(r.ok, `${what} is refused`).toBe(false);
  const err = (r as { error: unknown }).error;
  expect(isShardedStoreError(err, "StoreError"), `${what}: ${String(err)}`).toBe(true);
  expect(String((err as Error).message)).toMatch(/symlink that leads outside the store's root/);
}

describe("DirectoryStore and symlinks (random layouts)", () => {
  it("writes never go through a symlink out of the root; confined reads never do either", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(NODE, { maxLength: 10 }),
        fc.array(fc.tuple(OP, KEY), { minLength: 1, maxLength: 8 }),
        async (nodes, ops) => {
          const { root, outside } = build(nodes);
          const before = snapshot(outside);
          const open = new DirectoryStore(root);
          const confined = new DirectoryStore(root, { confine: true });
          for (const [op, [dirs, leaf]] of ops) {
            const key = `/${[...dirs, leaf].join("/")}` as AbsolutePath;
            const file = path.join(root, ...dirs, leaf);
            const dirEscapes = escapes(path.dirname(file), root);
            const fileEscapes = dirEscapes || (lstatExists(file) && escapes(file, root));
            const what = `${op} ${key}`;
            if (op === "set") {
              const r = await outcome(() => open.set(key, new TextEncoder().encode("new")));
              if (dirEscapes) expectEscapeError(r, what);
              else if (!isDirOrLinkToDir(deepest(path.dirname(file))) || isDirOrLinkToDir(file)) {
                expect(r.ok, `${what}: a file is in the way`).toBe(false);
              } else {
                expect(r.ok, `${what}: ${String((r as { error?: unknown }).error)}`).toBe(true);
                // Lexically at the key's place, and a symlink there was replaced, not written through.
                expect(lstatSync(file).isSymbolicLink()).toBe(false);
                expect(readFileSync(file, "utf8")).toBe("new");
              }
            } else if (op === "delete") {
              const r = await outcome(() => open.delete(key));
              if (dirEscapes) expectEscapeError(r, what);
              else expect(r.ok, what).toBe(true);
            } else if (op === "get" || op === "getRange") {
              const r = await outcome(() =>
                op === "get" ? open.get(key) : open.getRange(key, { offset: 0, length: 100 }),
              );
              const want = isDirReal(file) ? undefined : readFollowing(file);
              expect(r.ok, what).toBe(true);
              const got = (r as { value: Uint8Array | undefined }).value;
              expect(got === undefined ? undefined : new TextDecoder().decode(got), what).toBe(want);
            } else if (op === "getConfined" || op === "getRangeConfined") {
              const r = await outcome(() =>
                op === "getConfined" ? confined.get(key) : confined.getRange(key, { suffixLength: 100 }),
              );
              if (fileEscapes && readFollowing(file) !== undefined) expectEscapeError(r, what);
              else if (!fileEscapes) {
                expect(r.ok, `${what}: ${String((r as { error?: unknown }).error)}`).toBe(true);
                const got = (r as { value: Uint8Array | undefined }).value;
                const want = isDirReal(file) ? undefined : readFollowing(file);
                expect(got === undefined ? undefined : new TextDecoder().decode(got), what).toBe(want);
              }
            } else {
              const prefix = dirs.length ? (`/${dirs.join("/")}/` as AbsolutePath) : undefined;
              const start = path.join(root, ...dirs);
              const r = await outcome(async () => {
                const keys: string[] = [];
                for await (const k of confined.list(prefix)) keys.push(k);
                return keys;
              });
              if (escapes(start, root)) expectEscapeError(r, what);
              else expect(r.ok, what).toBe(true);
            }
          }
          expect(snapshot(outside), "nothing outside the root changed").toEqual(before);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);

  it("refuses a write through a symlinked folder that leaves the root, naming the link", async () => {
    const { root, outside } = build([{ at: ["link"], kind: "dirLinkOut" }]);
    const err = await new DirectoryStore(root)
      .set("/link/evil" as AbsolutePath, new Uint8Array([1]))
      .catch((e) => e);
    expect(isShardedStoreError(err, "StoreError")).toBe(true);
    expect(err.message).toContain('"link" is a symlink that leads outside the store\'s root');
    expect(existsSync(path.join(outside, "evil"))).toBe(false);
    // Nested folders below the link are refused too, and nothing is created outside.
    await expect(
      new DirectoryStore(root).set("/link/sub/deeper/k" as AbsolutePath, new Uint8Array([1])),
    ).rejects.toThrow(/leads outside/);
    expect(existsSync(path.join(outside, "sub", "deeper"))).toBe(false);
  });
});
