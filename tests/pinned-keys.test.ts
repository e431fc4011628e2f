// Key, mount and prefix checks against a plain reading of the rules (split on "/", look at each
// segment), over keys made of the characters that matter: separators, dots, backslash, NUL and the
// characters just below "/" in ASCII.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidKeyError, MountError } from "../src/errors.js";
import { assertValidKey, normalizeMount, normalizePrefix } from "../src/keys.js";

const badSegment = (s: string) => s === "" || s === "." || s === ".." || s.includes("\\") || s.includes("\0");

/** The rule: "/" then one or more segments, none empty, ".", "..", or holding "\" or NUL. */
function validKey(key: string): boolean {
  if (!key.startsWith("/") || key === "/") return false;
  return !key.slice(1).split("/").some(badSegment);
}

const chars = fc.constantFrom("/", ".", "a", "b", "\\", "\0", "-", " ", "!", "'", "+", ",", "\x01", "é", "0");
const keyArb = fc.array(chars, { maxLength: 10 }).map((cs) => cs.join(""));
const slashKeyArb = keyArb.map((k) => `/${k}`);

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("assertValidKey", () => {
  it("accepts exactly the keys the rule allows (property)", () => {
    fc.assert(
      fc.property(fc.oneof(keyArb, slashKeyArb), (key) => {
        const e = thrown(() => assertValidKey(key, "Here"));
        if (validKey(key)) expect(e, JSON.stringify(key)).toBeUndefined();
        else {
          expect(e, JSON.stringify(key)).toBeInstanceOf(InvalidKeyError);
          expect((e as InvalidKeyError).key).toBe(key);
          expect((e as Error).message.startsWith(`Here: invalid key ${JSON.stringify(key)}: `)).toBe(true);
        }
      }),
      { numRuns: 20000 },
    );
  });

  it("says which rule a key breaks", () => {
    const cases: [string, string][] = [
      ["/.", "'.' segments are not allowed"],
      ["/a/./b", "'.' segments are not allowed"],
      ["/..", "'..' segments are not allowed"],
      ["/a/..", "'..' segments are not allowed"],
      ["/../a", "'..' segments are not allowed"],
      ["//", "empty path segments are not allowed"],
      ["/a/", "empty path segments are not allowed"],
      ["/a\\", "backslashes are not allowed"],
      ["/\\", "backslashes are not allowed"],
      ["/\0", "NUL is not allowed"],
      ["/", "the root '/' is not a key"],
      ["x", "keys must be strings starting with '/'"],
    ];
    for (const [key, reason] of cases) {
      expect(() => assertValidKey(key, "W"), JSON.stringify(key)).toThrow(
        `W: invalid key ${JSON.stringify(key)}: ${reason}`,
      );
    }
    expect(() => assertValidKey(7 as never, "W")).toThrow(
      `W: invalid key "7": keys must be strings starting with '/'`,
    );
    for (const ok of ["/.a", "/a.", "/...", "/..a", "/a..", "/.a/.b", "/a/...", "/-", "/a/b-c", "/ a"]) {
      expect(() => assertValidKey(ok, "W"), ok).not.toThrow();
    }
  });
});

describe("normalizeMount", () => {
  it("drops empty segments and refuses '.', '..', backslashes, NUL and the empty path (property)", () => {
    fc.assert(
      fc.property(keyArb, (p) => {
        const parts = p.split("/").filter((s) => s !== "");
        const e = thrown(() => normalizeMount(p));
        if (parts.length === 0) {
          expect(e).toBeInstanceOf(MountError);
          expect((e as Error).message).toContain(`mount path ${JSON.stringify(p)} is empty`);
        } else if (parts.some(badSegment)) {
          expect(e).toBeInstanceOf(MountError);
          const bad = parts.find(badSegment);
          expect((e as Error).message).toContain(
            `mount path ${JSON.stringify(p)} has an invalid segment ${JSON.stringify(bad)}`,
          );
        } else expect(normalizeMount(p)).toBe(parts.join("/"));
      }),
      { numRuns: 10000 },
    );
    expect(() => normalizeMount(3 as never)).toThrow("mount path must be a string, got number");
  });
});

describe("normalizePrefix", () => {
  it("gives '/' or '/a/b/' and refuses bad segments (property)", () => {
    fc.assert(
      fc.property(fc.option(fc.oneof(keyArb, slashKeyArb), { nil: undefined }), (p) => {
        const parts = (p ?? "").split("/").filter((s) => s !== "");
        const e = thrown(() => normalizePrefix(p));
        if (parts.some(badSegment)) {
          expect(e).toBeInstanceOf(InvalidKeyError);
          expect((e as Error).message).toBe(`list: invalid key ${JSON.stringify(p)}: invalid listing prefix`);
        } else expect(normalizePrefix(p)).toBe(parts.length === 0 ? "/" : `/${parts.join("/")}/`);
      }),
      { numRuns: 10000 },
    );
    expect(normalizePrefix("")).toBe("/");
    expect(normalizePrefix("//")).toBe("/");
  });
});
