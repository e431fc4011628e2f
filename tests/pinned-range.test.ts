// Byte ranges as users pass them to getRange: what is refused, what a value slice is, and which
// HTTP Range header goes on the wire (the header must be one a real server honours).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidKeyError } from "../src/errors.js";
import { FetchStore } from "../src/fetch-store.js";
import { MemoryStore } from "../src/memory-store.js";
import { rangeBounds, sliceRange } from "../src/range.js";
import { rangeHeader } from "../src/range-response.js";
import type { RangeQuery } from "../src/types.js";
import { parseRange, type StaticServer, startStaticServer } from "./helpers/http-server.js";

const enc = new TextEncoder();

describe("range queries that make no sense are refused, naming the store, the key and the value", () => {
  const bad: [RangeQuery, RegExp][] = [
    [{ suffixLength: -1 }, /bad suffixLength -1$/],
    [{ suffixLength: -100 }, /bad suffixLength -100$/],
    [{ suffixLength: 1.5 }, /bad suffixLength 1\.5$/],
    [{ offset: 2, length: -1 }, /bad range offset=2 length=-1$/],
    [{ offset: 0, length: -5 }, /bad range offset=0 length=-5$/],
    [{ offset: -1, length: 2 }, /bad range offset=-1 length=2$/],
    [{ offset: 1, length: 0.5 }, /bad range offset=1 length=0\.5$/],
    [{ offset: Number.NaN, length: 1 }, /bad range offset=NaN length=1$/],
  ];

  it("by MemoryStore.getRange (a tagged InvalidKeyError, not an empty slice)", async () => {
    const s = new MemoryStore();
    await s.set("/k", enc.encode("0123456789"));
    for (const [range, re] of bad) {
      const err = await s.getRange("/k", range).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(range)).toBeInstanceOf(InvalidKeyError);
      const msg = (err as Error).message;
      expect(msg).toMatch(re);
      // The message says it is about a range and where it happened.
      expect(msg.startsWith('range: invalid key "MemoryStore getRange /k": ')).toBe(true);
    }
  });

  it("by rangeHeader before anything is sent", () => {
    for (const [range, re] of bad) {
      expect(() => rangeHeader(range, "FetchStore getRange /k"), JSON.stringify(range)).toThrow(re);
    }
  });

  it("for every negative length or suffix length (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: -1e9, max: -1 }), (offset, neg) => {
        const v = new Uint8Array(10);
        expect(() => sliceRange(v, { offset, length: neg }, "w")).toThrow(InvalidKeyError);
        expect(() => sliceRange(v, { suffixLength: neg }, "w")).toThrow(InvalidKeyError);
        expect(() => rangeHeader({ offset, length: neg }, "w")).toThrow(InvalidKeyError);
        expect(() => rangeHeader({ suffixLength: neg }, "w")).toThrow(InvalidKeyError);
      }),
    );
  });
});

describe("valid ranges", () => {
  const rangeArb: fc.Arbitrary<RangeQuery> = fc.oneof(
    fc.record({ offset: fc.integer({ min: 0, max: 80 }), length: fc.integer({ min: 0, max: 80 }) }),
    fc.record({ suffixLength: fc.integer({ min: 0, max: 80 }) }),
  );

  it("slice a value like Array.prototype.slice would (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), rangeArb, (value, range) => {
        const want =
          "suffixLength" in range
            ? range.suffixLength === 0
              ? []
              : Array.from(value).slice(-range.suffixLength)
            : Array.from(value).slice(range.offset, range.offset + range.length);
        expect(Array.from(sliceRange(value, range, "w"))).toEqual(want);
        const [s, e] = rangeBounds(range, value.byteLength, "w");
        expect(e - s).toBe(want.length);
      }),
    );
  });

  it("become Range headers that an RFC 9110 server answers with exactly those bytes (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), rangeArb, (size, range) => {
        const header = rangeHeader(range, "w");
        const served = parseRange(header, size);
        // Never a header the server would ignore (it would then send the whole value).
        expect(served, header).not.toBeUndefined();
        const want = "suffixLength" in range ? range.suffixLength : range.length;
        if (want === 0) {
          // A zero-length range asks for the first byte: enough to learn that the key exists,
          // satisfiable for any non-empty value, and never a download of the whole value.
          expect(served).toEqual([0, 0]);
          return;
        }
        const [s, e] = rangeBounds(range, size, "w");
        if (s === e) expect(served).toBe("unsatisfiable");
        else expect(served).toEqual([s, e - 1]);
      }),
    );
  });
});

describe("zero-length ranges over HTTP", () => {
  let dir: string;
  let server: StaticServer;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "ss-pin-range-"));
    await writeFile(path.join(dir, "big"), new Uint8Array(1 << 20).fill(7));
    server = await startStaticServer(dir);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("tell an existing key from a missing one with a one-byte request, not a whole download", async () => {
    const s = new FetchStore(server.url);
    server.requests.length = 0;
    expect(await s.getRange("/big", { offset: 4096, length: 0 })).toEqual(new Uint8Array(0));
    expect(await s.getRange("/big", { suffixLength: 0 })).toEqual(new Uint8Array(0));
    expect(await s.getRange("/missing", { offset: 3, length: 0 })).toBeUndefined();
    expect(server.requests.map((r) => r.range)).toEqual(["bytes=0-0", "bytes=0-0", "bytes=0-0"]);
  });
});
