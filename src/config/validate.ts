import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { ConfigError } from "../errors.js";
import { configSchema } from "./schema.js";

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
let compiled: ValidateFunction | null = null;
const compiledByType = new WeakMap<object, ValidateFunction>();

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
  // A segment is an index where the data there is an array.
  const parts: (string | number)[] = [];
  let here = data;
  for (const raw of e.instancePath.split("/").slice(1)) {
    const s = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    parts.push(Array.isArray(here) ? Number(s) : s);
    here = (here as Record<string, unknown> | undefined)?.[s];
  }
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
    message = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}, got ${JSON.stringify(e.data)}`;
  } else if (e.keyword === "type") {
    message = `${message}, got ${e.data === null ? "null" : Array.isArray(e.data) ? "array" : typeof e.data}`;
  }
  return new ConfigError(jsonPath(parts, base), message);
}

function firstError(validate: ValidateFunction, base: string, data: unknown): ConfigError {
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== "if" && e.keyword !== "$ref");
  // The deepest error is the most specific one; a bad member name is reported by name.
  errors.sort((a, b) => b.instancePath.split("/").length - a.instancePath.split("/").length);
  const first = errors.find((e) => e.keyword === "propertyNames") ?? errors[0];
  return first
    ? describeError(first, base, data)
    : new ConfigError(base || "(root)", "does not match the schema");
}

/**
 * Checks a config against the published JSON Schema (with Ajv); throws {@link ConfigError} naming
 * the JSON path of the first offending member.
 *
 * @example
 * ```ts
 * validateConfig(JSON.parse(text)); // throws "config.kwargs.shards.people.name: is required"
 * ```
 */
export function validateConfig(config: unknown): void {
  compiled ??= ajv.compile(configSchema);
  if (!compiled(config)) throw firstError(compiled, "", config);
}

/**
 * Checks the `config` member of a store config (at JSON path `path`) against a store type's own
 * JSON Schema (with Ajv); used for store types registered with a `configSchema`.
 *
 * @example
 * ```ts
 * validateStoreConfig({ required: ["args"] }, storeConfig, "config.kwargs.shards.people");
 * ```
 */
export function validateStoreConfig(schema: object, config: { config: unknown }, path: string): void {
  let validate = compiledByType.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiledByType.set(schema, validate);
  }
  if (!validate(config.config)) throw firstError(validate, jsonPath(["config"], path), config.config);
}
