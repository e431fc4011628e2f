import { Ajv, type ErrorObject } from "ajv";
import { ConfigError } from "../errors.js";
import { configSchema } from "./schema.js";

let compiled: ReturnType<Ajv["compile"]> | null = null;

/** `["config", "kwargs", "shards", "people"]` → `config.kwargs.shards.people` (odd keys quoted). */
export function jsonPath(parts: readonly (string | number)[]): string {
  if (parts.length === 0) return "(root)";
  return parts
    .map((p, i) => {
      if (typeof p === "number") return `[${p}]`;
      const plain = /^[A-Za-z_$][\w$]*$/.test(p);
      return plain ? `${i === 0 ? "" : "."}${p}` : `[${JSON.stringify(p)}]`;
    })
    .join("");
}

function describeError(e: ErrorObject): ConfigError {
  const parts: (string | number)[] = e.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) && e.instancePath.includes("/args/") ? Number(s) : s));
  let message = e.message ?? "is invalid";
  if (e.keyword === "required") {
    parts.push(String((e.params as { missingProperty: string }).missingProperty));
    message = "is required";
  } else if (e.keyword === "additionalProperties") {
    parts.push(String((e.params as { additionalProperty: string }).additionalProperty));
    message = "is not allowed here";
  } else if (e.keyword === "propertyNames") {
    parts.push(String((e.params as { propertyName: string }).propertyName));
    message = 'is not an index tuple like "0/1" or "0.1"';
  } else if (e.keyword === "enum") {
    message = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  }
  return new ConfigError(jsonPath(parts), message);
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
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(configSchema);
  if (compiled(config)) return;
  const errors = (compiled.errors ?? []).filter((e) => e.keyword !== "if" && e.keyword !== "$ref");
  // The deepest error is the most specific one.
  errors.sort((a, b) => b.instancePath.split("/").length - a.instancePath.split("/").length);
  // A bad member name is reported by name, not by the pattern it failed.
  const first = errors.find((e) => e.keyword === "propertyNames") ?? errors[0];
  throw first ? describeError(first) : new ConfigError("(root)", "does not match the config schema");
}
