import { assertValidKey } from "../keys.js";
import type { AbsolutePath } from "../node.js";
import { UsageError } from "./errors.js";

/**
 * A key as the user typed it (`people/.zarray` or `/people/.zarray`) as a store key.
 *
 * @example
 * ```ts
 * toKey("people/.zarray"); // "/people/.zarray"
 * ```
 */
export function toKey(input: string): AbsolutePath {
  const key = input.startsWith("/") ? input : `/${input}`;
  try {
    assertValidKey(key, "key");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return key;
}

/**
 * A listing prefix as the user typed it: `simulation/fine` → `/simulation/fine` (a path prefix).
 *
 * @example
 * ```ts
 * toPrefix("simulation/"); // "/simulation"
 * ```
 */
export function toPrefix(input: string | undefined): AbsolutePath {
  if (input === undefined || input === "" || input === "/") return "/";
  const parts = input.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === ".." || p.includes("\\") || p.includes("\0"))) {
    throw new UsageError(`invalid prefix ${JSON.stringify(input)}`);
  }
  return `/${parts.join("/")}`;
}
