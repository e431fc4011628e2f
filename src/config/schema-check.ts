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
export const SUPPORTED_KEYWORDS = [
  "$schema",
  "$id",
  "$ref",
  "title",
  "description",
  "definitions",
  "type",
  "enum",
  "const",
  "allOf",
  "anyOf",
  "oneOf",
  "if",
  "then",
  "minimum",
  "maximum",
  "minLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "items",
  "required",
  "propertyNames",
  "additionalProperties",
  "properties",
] as const;
const KNOWN = new Set<string>(SUPPORTED_KEYWORDS);

const typeOf = (d: unknown): string =>
  d === null ? "null" : Array.isArray(d) ? "array" : Number.isInteger(d) ? "integer" : typeof d;
const hasType = (d: unknown, t: string): boolean =>
  t === typeOf(d) || (t === "number" && typeof d === "number") || (t === "object" && typeOf(d) === "object");
const equal = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const pointer = (k: string | number) => `/${String(k).replace(/~/g, "~0").replace(/\//g, "~1")}`;

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
export function compileSchema(root: object): ((data: unknown) => boolean) & { errors: Errors | null } {
  const regexps = new Map<string, RegExp>();
  const re = (p: string) => {
    let r = regexps.get(p);
    if (r === undefined) {
      r = new RegExp(p, "u");
      regexps.set(p, r);
    }
    return r;
  };
  const resolve = (ref: string): Schema => {
    if (!ref.startsWith("#")) throw new Error(`only local $refs are supported, got ${JSON.stringify(ref)}`);
    let here: unknown = root;
    for (const raw of ref.slice(1).split("/").slice(1)) {
      here = (here as Record<string, unknown>)?.[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    if (here === undefined) throw new Error(`unresolved $ref ${ref}`);
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
    const err = (keyword: string, params: Record<string, unknown>, message: string, at = ip) =>
      out.push({ instancePath: at, schemaPath: "", keyword, params, message });
    if (schema === false) {
      err("false schema", {}, "boolean schema is false");
      return;
    }
    const s = schema as Record<string, unknown>;
    if (typeof s.$ref === "string") {
      walk(resolve(s.$ref), d, ip, out);
      return;
    }
    const t = s.type as string | string[] | undefined;
    if (t !== undefined && !(Array.isArray(t) ? t : [t]).some((x) => hasType(d, x))) {
      err("type", { type: t }, `must be ${Array.isArray(t) ? t.join(",") : t}`);
    }
    if ("const" in s && !equal(d, s.const))
      err("const", { allowedValue: s.const }, "must be equal to constant");
    if (Array.isArray(s.enum) && !s.enum.some((v) => equal(v, d))) {
      err("enum", { allowedValues: s.enum }, "must be equal to one of the allowed values");
    }
    for (const sub of (s.allOf as Schema[] | undefined) ?? []) walk(sub, d, ip, out);
    for (const k of ["anyOf", "oneOf"] as const) {
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
        if (k === "anyOf") err("anyOf", {}, "must match a schema in anyOf");
        else err("oneOf", { passingSchemas: null }, "must match exactly one schema in oneOf");
      } else if (k === "oneOf" && passing.length > 1) {
        out.push(...failed);
        err("oneOf", { passingSchemas: passing.slice(0, 2) }, "must match exactly one schema in oneOf");
      }
    }
    if (s.if !== undefined) {
      const probe: Errors = [];
      walk(s.if as Schema, d, ip, probe);
      if (probe.length === 0 && s.then !== undefined) {
        const before = out.length;
        walk(s.then as Schema, d, ip, out);
        if (out.length > before) err("if", { failingKeyword: "then" }, 'must match "then" schema');
      }
    }
    if (typeof d === "number") {
      if (typeof s.minimum === "number" && d < s.minimum)
        err("minimum", { comparison: ">=", limit: s.minimum }, `must be >= ${s.minimum}`);
      if (typeof s.maximum === "number" && d > s.maximum)
        err("maximum", { comparison: "<=", limit: s.maximum }, `must be <= ${s.maximum}`);
    } else if (typeof d === "string") {
      if (typeof s.minLength === "number" && [...d].length < s.minLength)
        err("minLength", { limit: s.minLength }, `must NOT have fewer than ${s.minLength} characters`);
      if (typeof s.pattern === "string" && !re(s.pattern).test(d))
        err("pattern", { pattern: s.pattern }, `must match pattern "${s.pattern}"`);
    } else if (Array.isArray(d)) {
      if (typeof s.minItems === "number" && d.length < s.minItems)
        err("minItems", { limit: s.minItems }, `must NOT have fewer than ${s.minItems} items`);
      if (typeof s.maxItems === "number" && d.length > s.maxItems)
        err("maxItems", { limit: s.maxItems }, `must NOT have more than ${s.maxItems} items`);
      if (s.uniqueItems === true) {
        const seen = new Map<string, number>();
        d.forEach((v, i) => {
          const j = seen.get(JSON.stringify(v));
          if (j !== undefined)
            err(
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
      for (const p of (s.required as string[] | undefined) ?? []) {
        if (!(p in o)) err("required", { missingProperty: p }, `must have required property '${p}'`);
      }
      const props = (s.properties as Record<string, Schema> | undefined) ?? {};
      for (const k of Object.keys(o)) {
        if (s.propertyNames !== undefined) {
          const probe: Errors = [];
          walk(s.propertyNames as Schema, k, ip, probe);
          if (probe.length > 0) {
            out.push(...probe.map((e) => ({ ...e, propertyName: k })));
            err("propertyNames", { propertyName: k }, "property name must be valid");
          }
        }
        if (!(k in props) && s.additionalProperties !== undefined) {
          if (s.additionalProperties === false)
            err("additionalProperties", { additionalProperty: k }, "must NOT have additional properties");
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
