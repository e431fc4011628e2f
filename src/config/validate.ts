// Config validation without Ajv at run time: a small JSON Schema interpreter (schema-check.ts)
// checks the built-in schema and users' schema objects: no code is generated at run time (CSP-safe),
// and Ajv stays out of bundles. The Node entry installs Ajv for user schemas beyond its keywords.
import type { ErrorObject } from "ajv";
import { ConfigError } from "../errors.js";
import { undocumentedConfigSchema } from "./schema.js";
import { compileSchema } from "./schema-check.js";
import { isPlainPathStoreConfig } from "./store-fast-check.js";

/**
 * A compiled validator: Ajv's `ValidateFunction` shape (`errors` set after a failed call), as Ajv's
 * `compile` or its standalone code gives it.
 *
 * @example
 * ```ts
 * const v: ValidateFn = Object.assign((d: unknown) => typeof d === "object", { errors: null });
 * ```
 */
export type ValidateFn = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

let compiled: ValidateFn | undefined;
const compiledByType = new WeakMap<object, ValidateFn>();
let schemaCompiler: ((schema: object) => ValidateFn) | undefined;

/**
 * Installs the compiler of store types' JSON Schema objects (the Node entry installs Ajv, loaded on
 * first use); without one, schema-check.ts's interpreter compiles them.
 *
 * @example
 * ```ts
 * setSchemaCompiler((schema) => new Ajv({ allErrors: true }).compile(schema));
 * ```
 */
export function setSchemaCompiler(compile: (schema: object) => ValidateFn): void {
  schemaCompiler = compile;
}

/**
 * `["config", "kwargs", "shards", "people"]` → `config.kwargs.shards.people` (odd keys quoted,
 * numbers as indices); appended to `base` when given.
 *
 * @example
 * ```ts
 * jsonPath(["config", "kwargs", "array_shards", "sim/foo", "0/1"]); // 'config.kwargs.array_shards["sim/foo"]["0/1"]'
 * ```
 */
export function jsonPath(parts: readonly (string | number)[], base = ""): string {
  let out = base;
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === "" ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out === "" ? "(root)" : out;
}

function describeError(e: ErrorObject, base: string, data: unknown): ConfigError {
  // A segment is an index where the data there is an array; `here` ends at the offending value.
  const parts: (string | number)[] = [];
  let here = data;
  for (const raw of e.instancePath.split("/").slice(1)) {
    const s = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    parts.push(Array.isArray(here) ? Number(s) : s);
    here = (here as Record<string, unknown> | undefined)?.[s];
  }
  const value = "data" in e ? e.data : here;
  let message = e.message ?? "is invalid";
  if (e.keyword === "required") {
    parts.push(String((e.params as { missingProperty: string }).missingProperty));
    message = "is required";
  } else if (e.keyword === "additionalProperties") {
    parts.push(String((e.params as { additionalProperty: string }).additionalProperty));
    message = "is not allowed here";
  } else if (e.keyword === "propertyNames") {
    const name = String((e.params as { propertyName: string }).propertyName);
    parts.push(name);
    message = parts.includes("array_shards")
      ? 'is not an index tuple like "0/1" or "0.1"'
      : `is not a valid member name`;
  } else if (e.keyword === "enum") {
    message = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}, got ${JSON.stringify(value)}`;
  } else if (e.keyword === "type") {
    message = `${message}, got ${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}`;
  }
  return new ConfigError(jsonPath(parts, base), message);
}

function firstError(validate: ValidateFn, base: string, data: unknown): ConfigError {
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== "if" && e.keyword !== "$ref");
  // The deepest error is the most specific one; a bad member name is reported by name.
  errors.sort((a, b) => b.instancePath.split("/").length - a.instancePath.split("/").length);
  const first = errors.find((e) => e.keyword === "propertyNames") ?? errors[0];
  return first
    ? describeError(first, base, data)
    : new ConfigError(base || "(root)", "does not match the schema");
}

/**
 * Checks a config against the published JSON Schema (with the interpreter of schema-check.ts, no
 * code generated at run time); throws {@link ConfigError} naming the JSON path of the first offending member.
 *
 * @example
 * ```ts
 * validateConfig(JSON.parse(text)); // throws "config.kwargs.shards.people.name: is required"
 * ```
 */
export function validateConfig(config: unknown): void {
  // The index stores of an expanded config (10^5 of them) take the sound shortcut; others the schema.
  compiled ??= compileSchema(undocumentedConfigSchema, {
    known: { "#/definitions/store": isPlainPathStoreConfig },
  });
  if (!compiled(config)) throw firstError(compiled, "", config);
}

/**
 * Checks the `config` member of a store config (at JSON path `path`) against a store type's own
 * `configSchema`: a compiled validate function (e.g. Ajv standalone code), or a JSON Schema object
 * (compiled once: by Ajv in the Node entry, elsewhere by the interpreter of schema-check.ts, which
 * refuses keywords it does not know).
 *
 * @example
 * ```ts
 * validateStoreConfig({ required: ["args"] }, storeConfig, "config.kwargs.shards.people");
 * ```
 */
export function validateStoreConfig(schema: object, config: { config: unknown }, path: string): void {
  let validate = typeof schema === "function" ? (schema as ValidateFn) : compiledByType.get(schema);
  if (validate === undefined) {
    try {
      validate = (schemaCompiler ?? compileSchema)(schema);
    } catch (e) {
      throw new ConfigError(
        path || "(root)",
        `this store type's configSchema cannot be compiled here (${(e as Error).message}); give a compiled validate function`,
        { cause: e },
      );
    }
    compiledByType.set(schema, validate);
  }
  if (!validate(config.config)) throw firstError(validate, jsonPath(["config"], path), config.config);
}
