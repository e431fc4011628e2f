// A small JSON Schema (draft-07) interpreter for the keywords our config schema uses. It reports
// errors shaped like Ajv's (instancePath, keyword, params, message), builds no code at run time
// (CSP-safe), and is ~3 KB minified where Ajv's precompiled code for the same schema is ~45 KB
// (scripts/size.mjs). tests/config-schema-check.test.ts compares its verdicts with Ajv's.
import type { ErrorObject } from "ajv";

type Schema = boolean | { [k: string]: unknown };
type Errors = ErrorObject[];

/**
 * The JSON Schema keywords {@link compileSchema} understands; any other keyword in a schema is
 * refused when it is compiled (so nothing is silently left unchecked).
 *
 * @example
 * ```ts
 * SUPPORTED_KEYWORDS.includes("pattern"); // true
 * ```
 */
export const SUPPORTED_KEYWORDS: readonly string[] = (
  "$schema $id $ref title description definitions type enum const allOf anyOf oneOf if then minimum " +
  "maximum minLength pattern minItems maxItems uniqueItems items required propertyNames additionalProperties properties"
).split(" ");
const KNOWN = new Set<string>(SUPPORTED_KEYWORDS);
const ANY_ONE = ["anyOf", "oneOf"] as const;
const NO_PROPERTIES: Record<string, never> = {};

/** Records one error (Ajv's shape) at instance path `ip`. */
function fail(
  out: Errors,
  ip: string,
  keyword: string,
  params: Record<string, unknown>,
  message: string,
): void {
  out.push({ instancePath: ip, schemaPath: "", keyword, params, message });
}

const typeOf = (d: unknown): string =>
  d === null ? "null" : Array.isArray(d) ? "array" : Number.isInteger(d) ? "integer" : typeof d;
const hasType = (d: unknown, t: string): boolean =>
  t === typeOf(d) || (t === "number" && typeof d === "number") || (t === "object" && typeOf(d) === "object");
const equal = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const pointer = (k: string | number) => {
  const s = String(k);
  return s.includes("~") || s.includes("/") ? `/${s.replace(/~/g, "~0").replace(/\//g, "~1")}` : `/${s}`;
};

/**
 * Options of {@link compileSchema}.
 *
 * @example
 * ```ts
 * const options: CompileOptions = { known: { "#/definitions/store": isPlainPathStoreConfig } };
 * ```
 */
export interface CompileOptions {
  /**
   * Shortcuts by `$ref`: data a predicate accepts is valid under that `$ref`'s schema without
   * walking it. A predicate must be sound (accept only valid data); on `false` the schema is walked.
   */
  known?: Readonly<Record<string, (data: unknown) => boolean>>;
}

/**
 * Compiles a JSON Schema into a validate function with Ajv's calling convention (returns a boolean
 * and leaves the errors of the last failed call in `errors`). Local `$ref`s (`#/definitions/x`),
 * `allOf`, `anyOf`, `oneOf`, `if`/`then` and the common type keywords are supported (see {@link SUPPORTED_KEYWORDS}).
 *
 * @example
 * ```ts
 * const v = compileSchema({ type: "object", required: ["args"] });
 * v({}); // false; v.errors[0].message === "must have required property 'args'"
 * ```
 */
export function compileSchema(
  root: object,
  options: CompileOptions = {},
): ((data: unknown) => boolean) & { errors: Errors | null } {
  const known = new Map(Object.entries(options.known ?? {}));
  const regexps = new Map<string, RegExp>();
  const re = (p: string) => {
    let r = regexps.get(p);
    if (r === undefined) {
      r = new RegExp(p, "u");
      regexps.set(p, r);
    }
    return r;
  };
  const resolved = new Map<string, Schema>();
  const resolve = (ref: string): Schema => {
    const hit = resolved.get(ref);
    if (hit !== undefined) return hit;
    if (!ref.startsWith("#")) throw new Error(`only local $refs are supported, got ${JSON.stringify(ref)}`);
    let here: unknown = root;
    for (const raw of ref.slice(1).split("/").slice(1)) {
      here = (here as Record<string, unknown>)?.[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    if (here === undefined) throw new Error(`unresolved $ref ${ref}`);
    resolved.set(ref, here as Schema);
    return here as Schema;
  };
  const checkKeywords = (s: unknown): void => {
    if (typeof s !== "object" || s === null) return;
    if (Array.isArray(s)) {
      for (const x of s) checkKeywords(x);
      return;
    }
    for (const [k, v] of Object.entries(s)) {
      if (!KNOWN.has(k)) throw new Error(`unsupported JSON Schema keyword ${JSON.stringify(k)}`);
      if (k === "properties" || k === "definitions")
        for (const x of Object.values(v as object)) checkKeywords(x);
      else if (k !== "enum" && k !== "const") checkKeywords(v);
    }
  };
  checkKeywords(root);

  const walk = (schema: Schema, d: unknown, ip: string, out: Errors): void => {
    if (schema === true) return;
    if (schema === false) {
      fail(out, ip, "false schema", {}, "boolean schema is false");
      return;
    }
    const s = schema as Record<string, unknown>;
    if (typeof s.$ref === "string") {
      if (known.get(s.$ref)?.(d) === true) return;
      walk(resolve(s.$ref), d, ip, out);
      return;
    }
    const t = s.type as string | string[] | undefined;
    if (t !== undefined && !(Array.isArray(t) ? t : [t]).some((x) => hasType(d, x))) {
      fail(out, ip, "type", { type: t }, `must be ${Array.isArray(t) ? t.join(",") : t}`);
    }
    if ("const" in s && !equal(d, s.const))
      fail(out, ip, "const", { allowedValue: s.const }, "must be equal to constant");
    if (Array.isArray(s.enum) && !s.enum.some((v) => equal(v, d))) {
      fail(out, ip, "enum", { allowedValues: s.enum }, "must be equal to one of the allowed values");
    }
    if (s.allOf !== undefined) for (const sub of s.allOf as Schema[]) walk(sub, d, ip, out);
    for (const k of ANY_ONE) {
      const subs = s[k] as Schema[] | undefined;
      if (subs === undefined) continue;
      // As Ajv: when the keyword fails, the failing branches' errors and then the keyword's own.
      const failed: Errors = [];
      const passing: number[] = [];
      subs.forEach((sub, i) => {
        const probe: Errors = [];
        walk(sub, d, ip, probe);
        if (probe.length === 0) passing.push(i);
        else failed.push(...probe);
      });
      if (passing.length === 0) {
        out.push(...failed);
        if (k === "anyOf") fail(out, ip, "anyOf", {}, "must match a schema in anyOf");
        else fail(out, ip, "oneOf", { passingSchemas: null }, "must match exactly one schema in oneOf");
      } else if (k === "oneOf" && passing.length > 1) {
        out.push(...failed);
        fail(
          out,
          ip,
          "oneOf",
          { passingSchemas: passing.slice(0, 2) },
          "must match exactly one schema in oneOf",
        );
      }
    }
    if (s.if !== undefined) {
      const probe: Errors = [];
      walk(s.if as Schema, d, ip, probe);
      if (probe.length === 0 && s.then !== undefined) {
        const before = out.length;
        walk(s.then as Schema, d, ip, out);
        if (out.length > before) fail(out, ip, "if", { failingKeyword: "then" }, 'must match "then" schema');
      }
    }
    if (typeof d === "number") {
      if (typeof s.minimum === "number" && d < s.minimum)
        fail(out, ip, "minimum", { comparison: ">=", limit: s.minimum }, `must be >= ${s.minimum}`);
      if (typeof s.maximum === "number" && d > s.maximum)
        fail(out, ip, "maximum", { comparison: "<=", limit: s.maximum }, `must be <= ${s.maximum}`);
    } else if (typeof d === "string") {
      if (typeof s.minLength === "number" && [...d].length < s.minLength)
        fail(
          out,
          ip,
          "minLength",
          { limit: s.minLength },
          `must NOT have fewer than ${s.minLength} characters`,
        );
      if (typeof s.pattern === "string" && !re(s.pattern).test(d))
        fail(out, ip, "pattern", { pattern: s.pattern }, `must match pattern "${s.pattern}"`);
    } else if (Array.isArray(d)) {
      if (typeof s.minItems === "number" && d.length < s.minItems)
        fail(out, ip, "minItems", { limit: s.minItems }, `must NOT have fewer than ${s.minItems} items`);
      if (typeof s.maxItems === "number" && d.length > s.maxItems)
        fail(out, ip, "maxItems", { limit: s.maxItems }, `must NOT have more than ${s.maxItems} items`);
      if (s.uniqueItems === true) {
        const seen = new Map<string, number>();
        d.forEach((v, i) => {
          const j = seen.get(JSON.stringify(v));
          if (j !== undefined)
            fail(
              out,
              ip,
              "uniqueItems",
              { i, j },
              `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
            );
          seen.set(JSON.stringify(v), i);
        });
      }
      const items = s.items as Schema | Schema[] | undefined;
      if (Array.isArray(items)) {
        for (let i = 0; i < Math.min(items.length, d.length); i++)
          walk(items[i] as Schema, d[i], ip + pointer(i), out);
      } else if (items !== undefined) {
        for (let i = 0; i < d.length; i++) walk(items, d[i], ip + pointer(i), out);
      }
    } else if (typeOf(d) === "object") {
      const o = d as Record<string, unknown>;
      if (s.required !== undefined)
        for (const p of s.required as string[]) {
          if (!(p in o))
            fail(out, ip, "required", { missingProperty: p }, `must have required property '${p}'`);
        }
      const props = (s.properties as Record<string, Schema> | undefined) ?? NO_PROPERTIES;
      for (const k of Object.keys(o)) {
        if (s.propertyNames !== undefined) {
          const probe: Errors = [];
          walk(s.propertyNames as Schema, k, ip, probe);
          if (probe.length > 0) {
            out.push(...probe.map((e) => ({ ...e, propertyName: k })));
            fail(out, ip, "propertyNames", { propertyName: k }, "property name must be valid");
          }
        }
        if (!(k in props) && s.additionalProperties !== undefined) {
          if (s.additionalProperties === false)
            fail(
              out,
              ip,
              "additionalProperties",
              { additionalProperty: k },
              "must NOT have additional properties",
            );
          else walk(s.additionalProperties as Schema, o[k], ip + pointer(k), out);
        }
      }
      for (const [k, sub] of Object.entries(props)) if (k in o) walk(sub, o[k], ip + pointer(k), out);
    }
  };

  const validate = Object.assign(
    (data: unknown): boolean => {
      const out: Errors = [];
      walk(root as Schema, data, "", out);
      validate.errors = out.length > 0 ? out : null;
      return out.length === 0;
    },
    { errors: null as Errors | null },
  );
  return validate;
}
