// Path arithmetic that decides where a saved config's stores are (and whether a path is confined
// to a folder), checked against Node's own path.posix as the reference.
import * as nodePath from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isInside, relativeIfInside, resolvePosix } from "../src/config/paths.js";

const posix = nodePath.posix;

/** Node's normalisation without the trailing slash it keeps. */
function reference(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

const segment = fc.constantFrom("a", "b", "proj", "proj-old", "x.zarr", ".", "..", "", "...", "..a", ".b");
const relPath = fc.array(segment, { maxLength: 7 }).map((s) => s.join("/"));
const absPath = relPath.map((p) => `/${p}`);
const anyPath = fc.oneof(
  relPath.filter((p) => p !== "" && !p.startsWith("/")),
  absPath,
);

describe("isInside", () => {
  it("does not take a sibling folder that shares a name prefix for a subfolder", () => {
    expect(isInside("/data/proj", "/data/proj-old/x.zarr")).toBe(false);
    expect(isInside("/data/proj", "/data/proj-old")).toBe(false);
    expect(isInside("/data/proj", "/data/projx")).toBe(false);
    expect(isInside("/data/proj/", "/data/proj-old/x.zarr")).toBe(false);
  });

  it("accepts the folder itself and anything below it, however written", () => {
    expect(isInside("/data/proj", "/data/proj")).toBe(true);
    expect(isInside("/data/proj", "/data/proj/")).toBe(true);
    expect(isInside("/data/proj/", "/data/proj/x.zarr")).toBe(true);
    expect(isInside("/data/proj", "/data/proj/a/../x.zarr")).toBe(true);
    expect(isInside("/data//proj/.", "/data/proj/x.zarr")).toBe(true);
    expect(isInside("/", "/anything/at/all")).toBe(true);
    expect(isInside("/", "/")).toBe(true);
  });

  it("is not fooled by '..' climbing out", () => {
    expect(isInside("/data/proj", "/data/proj/../proj-old/x.zarr")).toBe(false);
    expect(isInside("/data/proj", "/data/proj/a/../../x")).toBe(false);
    expect(isInside("/data/proj", "/data")).toBe(false);
  });

  it("agrees with path.posix.relative for absolute paths (property)", () => {
    fc.assert(
      fc.property(absPath, absPath, (base, p) => {
        const rel = posix.relative(reference(base), reference(p));
        const inside = rel === "" || (rel !== ".." && !rel.startsWith("../") && !posix.isAbsolute(rel));
        expect(isInside(base, p), `${base} ${p}`).toBe(inside);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("resolvePosix", () => {
  it("resolves relative store paths against the config's folder", () => {
    expect(resolvePosix("/data/cfg", "../stores/a.zarr")).toBe("/data/stores/a.zarr");
    expect(resolvePosix("/data/cfg", "./a.zarr")).toBe("/data/cfg/a.zarr");
    expect(resolvePosix("/data/cfg", "/elsewhere/a.zarr")).toBe("/elsewhere/a.zarr");
    expect(resolvePosix("/data", "../../../x")).toBe("/x");
    expect(resolvePosix("/data", "..")).toBe("/");
  });

  it("keeps leading '..' of a relative path with no base, and gives '.' for nothing", () => {
    expect(resolvePosix(undefined, "../../x")).toBe("../../x");
    expect(resolvePosix(undefined, "a/../../x")).toBe("../x");
    expect(resolvePosix(undefined, "a/..")).toBe(".");
    expect(resolvePosix(undefined, "./")).toBe(".");
    expect(resolvePosix(undefined, "/a/..")).toBe("/");
    expect(resolvePosix("rel/base", "../x")).toBe("rel/x");
    expect(resolvePosix("..", "../x")).toBe("../../x");
  });

  it("agrees with path.posix (property)", () => {
    fc.assert(
      fc.property(fc.option(anyPath, { nil: undefined }), anyPath, (base, p) => {
        const want = p.startsWith("/") || base === undefined ? reference(p) : reference(posix.join(base, p));
        expect(resolvePosix(base, p), `${base} ${p}`).toBe(want);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("relativeIfInside", () => {
  it("writes paths below the config's folder relative to it, and others unchanged", () => {
    expect(relativeIfInside("/data", "/data/a.zarr")).toBe("a.zarr");
    expect(relativeIfInside("/data/", "/data/x/a.zarr")).toBe("x/a.zarr");
    expect(relativeIfInside("/", "/data/a.zarr")).toBe("data/a.zarr");
    expect(relativeIfInside("/data", "/data")).toBe("/data");
    expect(relativeIfInside("/data", "/data-old/a.zarr")).toBe("/data-old/a.zarr");
    expect(relativeIfInside("/data", "/data//x/./a.zarr")).toBe("x/a.zarr");
  });

  it("gives a path that resolves back to the same place (property)", () => {
    fc.assert(
      fc.property(absPath, absPath, (base, p) => {
        const r = relativeIfInside(base, p);
        expect(resolvePosix(base, r), `${base} ${p} → ${r}`).toBe(reference(p));
        if (isInside(base, p) && reference(p) !== reference(base)) {
          expect(r.startsWith("/") || r === ".." || r.startsWith("../")).toBe(false);
        } else {
          expect(r).toBe(reference(p));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
