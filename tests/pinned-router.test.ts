// Mount lookup: which mount a key falls under and which mounts a listing prefix touches, checked
// against a brute-force scan of every mount path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidKeyError, MountError } from "../src/errors.js";
import { checkedKeyHash, prefixHash } from "../src/keys.js";
import { MountRouter } from "../src/router.js";

const seg = fc.constantFrom("a", "b", "c", "ab", "zarr.json");
const mountPath = fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => s.join("/"));

/** Mount paths with none inside another (what MountRouter accepts), in random order. */
/** Drops every path that nests with an earlier one. */
const noNesting = (paths: string[]) =>
  paths.filter((p, i) => !paths.some((q, j) => j < i && (p.startsWith(`${q}/`) || q.startsWith(`${p}/`))));
const mountsArb = fc.uniqueArray(mountPath, { maxLength: 8 }).map(noNesting);

function build(paths: string[]): MountRouter<string> {
  const r = new MountRouter<string>();
  for (const p of paths) r.add(p, `m:${p}`);
  return r;
}

describe("MountRouter", () => {
  it("finds the mount a key lies below, and where its inner key starts (property)", () => {
    fc.assert(
      fc.property(mountsArb, fc.array(seg, { minLength: 1, maxLength: 5 }), (paths, keySegs) => {
        const r = build(paths);
        expect(r.size).toBe(paths.length);
        const key = `/${keySegs.join("/")}`;
        const owner = paths.find((p) => key.startsWith(`/${p}/`));
        const want = owner === undefined ? null : { mount: `m:${owner}`, end: owner.length + 1 };
        expect(r.find(key), `${JSON.stringify(paths)} ${key}`).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it("a key equal to a mount path, or a prefix of one, is under no mount", () => {
    const r = build(["sim/fine", "obs"]);
    expect(r.find("/sim/fine")).toBeNull();
    expect(r.find("/obs")).toBeNull();
    expect(r.find("/sim")).toBeNull();
    expect(r.find("/sim/x")).toBeNull();
    expect(r.find("/sim/fine/c/0")).toEqual({ mount: "m:sim/fine", end: 9 });
    expect(r.find("/obs/zarr.json")).toEqual({ mount: "m:obs", end: 4 });
    expect(r.find("/obsx/zarr.json")).toBeNull();
    expect(new MountRouter<string>().find("/a/b")).toBeNull();
  });

  it("lists the mounts below a prefix, or the one containing it (property)", () => {
    fc.assert(
      fc.property(mountsArb, fc.array(seg, { maxLength: 4 }), (paths, prefixSegs) => {
        const r = build(paths);
        const prefix = prefixSegs.length === 0 ? "/" : `/${prefixSegs.join("/")}/`;
        const p = prefixSegs.join("/");
        const below = paths.filter((m) => p === "" || m === p || m.startsWith(`${p}/`));
        const containing = paths.filter((m) => p.startsWith(`${m}/`));
        const got = [...r.within(prefix)].map((x) => [x.path, x.mount]).sort();
        const want = [...below, ...containing].map((m) => [m, `m:${m}`]).sort();
        expect(got, `${JSON.stringify(paths)} ${prefix}`).toEqual(want);
        if (prefix === "/") expect([...r.all()].map((x) => x.path).sort()).toEqual([...paths].sort());
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses mounts inside one another and the same mount twice, naming both", () => {
    const r = build(["sim/fine", "obs"]);
    expect(() => r.add("sim/fine/foo", "x")).toThrow(
      new MountError('mount "sim/fine/foo" is inside mount "sim/fine"; mounts cannot nest'),
    );
    expect(() => r.add("sim", "x")).toThrow(
      new MountError('mount "sim/fine" is inside mount "sim"; mounts cannot nest'),
    );
    expect(() => r.add("obs", "x")).toThrow(new MountError('mount "obs" is given twice'));
    expect(() => r.add("obs/a/b", "x")).toThrow(/mount "obs\/a\/b" is inside mount "obs"/);
    const deep = build(["x/y/z/w"]);
    expect(() => deep.add("x", "x")).toThrow(/mount "x\/y\/z\/w" is inside mount "x"/);
    expect(r.size).toBe(2);
    r.add("sim/coarse", "c");
    expect(r.size).toBe(3);
    expect(r.find("/sim/coarse/a")).toEqual({ mount: "c", end: 11 });
  });

  it("route() finds what find() finds and hashes as checkedKeyHash, mounts deeper than the recorded prefixes included (property)", () => {
    const deepSeg = fc.constantFrom("a", "b", "ab");
    const deepPath = fc.array(deepSeg, { minLength: 1, maxLength: 11 }).map((s) => s.join("/"));
    const deepMounts = fc.uniqueArray(deepPath, { maxLength: 8 }).map(noNesting);
    fc.assert(
      fc.property(deepMounts, fc.array(deepSeg, { minLength: 1, maxLength: 13 }), (paths, keySegs) => {
        const r = build(paths);
        const key = `/${keySegs.join("/")}`;
        expect(r.route(key, "test"), `${JSON.stringify(paths)} ${key}`).toBe(r.find(key)?.mount ?? null);
        expect(r.lastHash).toBe(checkedKeyHash(key, "test"));
      }),
      { numRuns: 3000 },
    );
  });

  it("route() rejects the keys checkedKeyHash rejects, with the same error", () => {
    const r = build(["a", "b/c"]);
    for (const bad of ["a/x", "/a//x", "/a/./x", "/a/../x", "/a/x/", "/", "/a\\x", "/a/\0"]) {
      expect(() => checkedKeyHash(bad, "here")).toThrow(InvalidKeyError);
      expect(() => r.route(bad, "here")).toThrow(InvalidKeyError);
      let want: unknown;
      try {
        checkedKeyHash(bad, "here");
      } catch (e) {
        want = (e as Error).message;
      }
      expect(() => r.route(bad, "here")).toThrow(want as string);
    }
  });

  it("mount paths whose hashes collide are told apart by their text", () => {
    // Two names with the same prefix hash, found by a birthday search over generated names
    // (deterministic).
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const s = `m${i.toString(36)}`;
      const h = prefixHash(s, 0, s.length);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, s];
      seen.set(h, s);
    }
    const [x, y] = pair;
    expect(x).not.toBe(y);
    const r = build([x, `${y}/deep`]);
    expect(r.route(`/${x}/k`, "t")).toBe(`m:${x}`);
    expect(r.route(`/${y}/deep/k`, "t")).toBe(`m:${y}/deep`);
    expect(r.route(`/${y}/k`, "t")).toBeNull(); // same hash as a mount, other text
    const both = build([x, y]);
    expect(both.route(`/${x}/k`, "t")).toBe(`m:${x}`);
    expect(both.route(`/${y}/k`, "t")).toBe(`m:${y}`);
    const only = build([y]);
    expect(only.route(`/${x}/k`, "t")).toBeNull();
    expect(only.route(`/${y}/k`, "t")).toBe(`m:${y}`);
  });

  it("a key whose segment only extends a mount's name is under no mount, whichever table slot it probes", () => {
    // 200 names that start with the mount's name: their probes pass through every slot of the
    // small table, the mount's included, and only text (not a slot) may decide.
    for (const mounts of [["a"], ["a", "b/c"], ["sim/a"]]) {
      const r = build(mounts);
      for (let i = 0; i < 200; i++) {
        for (const key of [`/a${i}/k`, `/b/c${i}/k`, `/sim/a${i}/k`, `/a${i}`]) {
          expect(r.route(key, "t"), `${JSON.stringify(mounts)} ${key}`).toBeNull();
        }
      }
      expect(r.route(`/${mounts[0]}/k`, "t")).toBe(`m:${mounts[0]}`);
    }
  });

  it("route() reads only the prefixes of the key it checks, never those left by the key before", () => {
    const r = build(["a", "sim/fine"]);
    const pairs: [string, string | null][] = [
      ["/a/x/y/z", "m:a"],
      ["/ab", null], // no "/" after its first segment: no prefix recorded, the previous key's remain
      ["/sim/fine/c/0", "m:sim/fine"],
      ["/a", null],
      ["/sim/fine/c/0", "m:sim/fine"],
      ["/simx", null],
      ["/a/k", "m:a"],
      ["/sim/fine", null],
    ];
    for (const [key, want] of pairs) expect(r.route(key, "t"), key).toBe(want);
  });

  it("keeps finding every mount as the prefix table grows (10,000 mounts)", () => {
    const r = new MountRouter<number>();
    for (let i = 0; i < 10_000; i++) r.add(i % 2 === 0 ? `g${i}` : `d/s${i}/p`, i);
    for (let i = 0; i < 10_000; i++) {
      const key = i % 2 === 0 ? `/g${i}/c/0` : `/d/s${i}/p/c/0`;
      expect(r.route(key, "t")).toBe(i);
    }
    expect(r.route("/d/s1/q/c/0", "t")).toBeNull();
    expect(r.route("/g10000/c/0", "t")).toBeNull();
  });
});
