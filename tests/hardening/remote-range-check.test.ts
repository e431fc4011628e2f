import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRangeResponse, parseContentRange } from "../../src/range-response.js";
import type { RangeQuery } from "../../src/types.js";

/** The positions `[start, end)` a range asks of a value of `size` bytes. */
function expected(range: RangeQuery, size: number): [number, number] {
  if ("suffixLength" in range) return [Math.max(0, size - range.suffixLength), size];
  return [Math.min(range.offset, size), Math.min(size, range.offset + range.length)];
}

const range: fc.Arbitrary<RangeQuery> = fc.oneof(
  fc.record({ offset: fc.nat(3000), length: fc.integer({ min: 1, max: 3000 }) }),
  fc.record({ suffixLength: fc.integer({ min: 1, max: 3000 }) }),
);

const range0 = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("checkRangeResponse (property-based)", () => {
  it("whatever a server that tells the truth about where its bytes start sends, accepted bytes are the asked ones", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        range,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: -3, max: 3 }),
        fc.boolean(),
        (size, r, a, b, extra, starTotal) => {
          const s = a % size;
          const e = s + (b % (size - s));
          const sent = e - s + 1;
          const length = Math.max(0, sent + extra);
          // The body: positions s, s+1, … as the header says (past the claimed end: garbage).
          const body = Array.from({ length }, (_, i) => (i < sent ? s + i : -1));
          const header = `bytes ${s}-${e}/${starTotal ? "*" : size}`;
          const check = checkRangeResponse(r, header, body.length);
          if (!check.ok) return;
          const [want0, want1] = expected(r, size);
          expect(body.slice(check.from, check.to)).toEqual(range0(want1 - want0).map((i) => i + want0));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("accepts every truthful answer that holds the asked range (exact or wider)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        range,
        fc.nat(64),
        fc.nat(64),
        (size, r, before, after) => {
          const [w0, w1] = expected(r, size);
          fc.pre(w1 > w0); // a range past the end is a 416, not a 206
          const s = Math.max(0, w0 - before);
          const e = Math.min(size - 1, w1 - 1 + after);
          const check = checkRangeResponse(r, `bytes ${s}-${e}/${size}`, e - s + 1);
          expect(check).toEqual({ ok: true, from: w0 - s, to: w1 - s });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("flags a body shorter than its Content-Range as transient (worth a retry), any other mismatch not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3000 }), fc.nat(), (size, cut) => {
        const r = { offset: 0, length: size };
        const short = checkRangeResponse(r, `bytes 0-${size - 1}/${size}`, cut % size);
        expect(short).toMatchObject({ ok: false, transient: true });
        const other = checkRangeResponse(r, `bytes 1-${size - 1}/${size}`, size - 1);
        expect(other).toMatchObject({ ok: false, transient: false });
      }),
    );
  });

  it("without Content-Range accepts only a body of exactly the asked offset/length", () => {
    fc.assert(
      fc.property(range, fc.nat(4000), (r, len) => {
        const check = checkRangeResponse(r, null, len);
        expect(check.ok).toBe("offset" in r && len === r.length);
      }),
    );
  });

  it("reads only well-formed Content-Range headers", () => {
    expect(parseContentRange("bytes 0-99/1000")).toEqual({ start: 0, end: 99, total: 1000 });
    expect(parseContentRange("bytes 5-9/*")).toEqual({ start: 5, end: 9, total: undefined });
    for (const bad of ["bytes 9-5/10", "bytes 0-10/10", "bytes */10", "items 0-1/2", "bytes 0-1", "", null]) {
      expect(parseContentRange(bad), String(bad)).toBeUndefined();
    }
    expect(checkRangeResponse({ offset: 10, length: 10 }, "bytes 0-99/1000", 100)).toEqual({
      ok: true,
      from: 10,
      to: 20,
    });
    expect(checkRangeResponse({ offset: 10, length: 10 }, "garbage", 10)).toMatchObject({
      ok: false,
      reason: "HTTP 206 Content-Range garbage is malformed for the requested bytes=10-19",
    });
  });
});
