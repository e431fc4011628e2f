// The config schema interpreter (src/config/schema-check.ts) against Ajv, the reference: the same
// verdict and the same first error on thousands of mutated configs.
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configSchema } from "../src/config/schema.js";
import { compileSchema } from "../src/config/schema-check.js";
import { validateConfig } from "../src/config/validate.js";
import { ConfigError } from "../src/errors.js";
import { SEED } from "./helpers/config-common.js";

const ajv = new Ajv({ allErrors: true, strict: false }).compile(configSchema);
const ours = compileSchema(configSchema);

const seeds: unknown[] = ["slash", "dot"].map((f) =>
  JSON.parse(readFileSync(`${SEED}${f}/config.json`, "utf8")),
);

type Json = unknown;
/** Every [parent, key] location in a JSON value. */
function locations(v: Json, out: [Record<string | number, Json>, string | number][] = []) {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      out.push([v as never, i]);
      locations(v[i], out);
    }
  } else if (typeof v === "object" && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.push([v as never, k]);
      locations(x, out);
    }
  }
  return out;
}

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    "",
    "/",
    ".",
    "a",
    "0/1",
    "0.1",
    "01",
    "http://x",
    "r",
    "w",
    "a",
    "config_dir",
    -1,
    0,
    1,
    1.5,
    600,
  ),
);
const mutation = fc.record({
  seed: fc.nat(seeds.length - 1),
  at: fc.nat(),
  op: fc.constantFrom("set", "delete", "add"),
  key: fc.constantFrom(
    "extra",
    "name",
    "module",
    "args",
    "kwargs",
    "mode",
    "0/1",
    "x.y",
    "shardedstore",
    "prefix",
  ),
  value,
});

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate({ seed, at, op, key, value: v }: Mutation): Json {
  const config = structuredClone(seeds[seed]);
  const locs = locations(config);
  const [parent, k] = locs[at % locs.length]!;
  if (op === "set") parent[k] = v;
  else if (op === "delete") Array.isArray(parent) ? parent.splice(k as number, 1) : delete parent[k];
  else if (typeof parent[k] === "object" && parent[k] !== null && !Array.isArray(parent[k]))
    (parent[k] as Record<string, Json>)[key] = v;
  else parent[k] = { [key]: v };
  return config;
}

const messageOf = (f: () => void) => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.message;
  }
};

describe("schema-check against Ajv", () => {
  it("accepts the Python original's configs as Ajv does", () => {
    for (const s of seeds) {
      expect(ours(s)).toBe(true);
      expect(ajv(s)).toBe(true);
    }
  });

  it("gives Ajv's verdict on every mutated config, and an error Ajv also reports", () => {
    let rejected = 0;
    fc.assert(
      fc.property(mutation, (m) => {
        const config = mutate(m);
        const verdict = ajv(config);
        expect(ours(config)).toBe(verdict);
        if (verdict) return;
        rejected++;
        const key = (e: { instancePath: string; keyword: string; message?: string }) =>
          `${e.instancePath} ${e.keyword} ${e.message}`;
        const theirs = new Set((ajv.errors ?? []).map(key));
        for (const e of ours.errors ?? []) expect(theirs, key(e)).toContain(key(e));
        expect(messageOf(() => validateConfig(config))).toBeTypeOf("string");
      }),
      { numRuns: 1000 },
    );
    expect(rejected).toBeGreaterThan(100);
  }, 180_000);

  it("refuses schemas with keywords it does not know instead of ignoring them", () => {
    expect(() => compileSchema({ type: "object", not: { required: ["a"] } })).toThrow(/"not"/);
  });

  it("gives Ajv's verdict and keyword errors for anyOf and oneOf (the compact index boxes use oneOf)", () => {
    const schema = {
      type: "array",
      items: {
        oneOf: [
          { type: "integer", minimum: 0 },
          { type: "array", minItems: 2, maxItems: 2, items: { type: "integer", minimum: 0 } },
          { type: "integer", maximum: 3 },
        ],
      },
      anyOf: [{ minItems: 2 }, { maxItems: 0 }],
    };
    const reference = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const mine = compileSchema(schema);
    const value = fc.oneof(
      fc.integer({ min: -5, max: 8 }),
      fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 }),
      fc.string({ maxLength: 2 }),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 4 }), (data) => {
        expect(mine(data)).toBe(reference(data));
        const keywords = (errs: { keyword: string }[] | null | undefined) =>
          (errs ?? []).map((e) => e.keyword).sort();
        expect(keywords(mine.errors)).toEqual(keywords(reference.errors));
      }),
      { numRuns: 2000 },
    );
  });

  it("reports Ajv's messages for each keyword", () => {
    const v = compileSchema({
      type: "object",
      required: ["a"],
      additionalProperties: false,
      properties: {
        n: { type: "integer", minimum: 1, maximum: 3 },
        s: { type: "string", minLength: 2, pattern: "^x" },
        l: { type: "array", minItems: 1, uniqueItems: true },
      },
    });
    expect(v({ n: 0, s: "y", l: [], z: 1 })).toBe(false);
    const a = new Ajv({ allErrors: true, strict: false }).compile({
      type: "object",
      required: ["a"],
      additionalProperties: false,
      properties: {
        n: { type: "integer", minimum: 1, maximum: 3 },
        s: { type: "string", minLength: 2, pattern: "^x" },
        l: { type: "array", minItems: 1, uniqueItems: true },
      },
    });
    a({ n: 0, s: "y", l: [], z: 1 });
    const msgs = (errs: { instancePath: string; message?: string }[] | null | undefined) =>
      (errs ?? []).map((e) => `${e.instancePath} ${e.message}`).sort();
    expect(msgs(v.errors)).toEqual(msgs(a.errors));
  });
});
