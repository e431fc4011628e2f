// Expanded configs read in Node: the index stores an array lists one by one that are exactly its
// factory's (`prefix/i/j.zarr`, `.zarr.zip`) are kept as index boxes, not as one entry each.

import { compactIndices, IndexSet } from "../index-set.js";
import type { ArrayShardFactory } from "../types.js";
import { type FactorySpec, factoryKindOf, INDEX_SUFFIX, isUrlLike } from "./factories.js";
import { type FromConfigContext, memberPath, type StoreConfig } from "./registry.js";
import type { EntryPacker } from "./sharded-config.js";

/** Whether two JSON values are equal. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Whether the members of `a` other than `except` equal those of `b` (and `b` has no others). */
function sameMembers(a: object, b: object, except: string): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (k !== except && !sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
      return false;
  }
  return true;
}

/** Whether two store configs are the same but for `config.args[0]`. */
export function sameButPath(t: StoreConfig, c: StoreConfig): boolean {
  const ta = t.config.args;
  const ca = c.config.args;
  if (ta.length !== ca.length || !sameMembers(t, c, "config") || !sameMembers(t.config, c.config, "args"))
    return false;
  for (let i = 1; i < ta.length; i++) if (!sameJson(ta[i], ca[i])) return false;
  return true;
}

/**
 * Entries packed while a big config's text was split (config/node-expanded-read.ts), by the entries
 * object of their array as the codec gets it: the template (kept in that object, so checked as any
 * entry), the index tuples of the entries left out, and whether the array's packer took them.
 */
export interface PrePacked {
  /** The factory the packed entries were matched against. */
  spec: FactorySpec;
  template: StoreConfig;
  /** The separator of the ids left out (for naming them in errors). */
  sep: string;
  tuples: number[][];
  taken: boolean;
}

/** Where a directory or zip factory puts the index store of `index`, as the config writes it. */
export const factoryPath = (spec: FactorySpec, index: readonly number[]): string =>
  `${spec.prefix}/${index.join(spec.separator)}${INDEX_SUFFIX[spec.kind]}`;

/**
 * Whether a store config is the factory's kind of store at the factory's path for `index` (what
 * makes an entry packable; config values of any shape are answered, not thrown on).
 */
export function isFactoryEntry(spec: FactorySpec, index: readonly number[], c: StoreConfig): boolean {
  return (
    typeof c?.name === "string" &&
    Array.isArray(c.config?.args) &&
    factoryKindOf(c) === spec.kind &&
    c.config.args[0] === factoryPath(spec, index)
  );
}

const sameSpec = (a: FactorySpec, b: FactorySpec) =>
  a.kind === b.kind && a.prefix === b.prefix && a.separator === b.separator;

/** See {@link PrePacked}. */
export const prePacked = new WeakMap<object, PrePacked>();

/**
 * The {@link EntryPacker} of one array read from a config in Node, for a directory or zip factory
 * at a local prefix. An entry is packed when it is the factory's kind of store at the factory's
 * path for its index and is, path aside, the same config as the first entry packed (the
 * template). Each packed entry is checked as it is read (its path resolved and, in a confined
 * config, its real path checked: the errors an entry kept one by one gives), then only its index
 * is kept; on first use it opens as its own entry would have (a read-only zip stays read-only).
 * So a 10^5-store expanded config keeps index boxes, not 10^5 entries (~0.4 KB each), and is saved
 * expanded again (the factory says `expanded`).
 *
 * @example
 * ```ts
 * setEntryPacker(entryPacker); // done by the Node entry
 * ```
 */
export function entryPacker(
  spec: FactorySpec,
  ctx: FromConfigContext,
  at: string,
  entries: object,
): EntryPacker | undefined {
  const prepare = ctx.prepare;
  if (INDEX_SUFFIX[spec.kind] === undefined || isUrlLike(spec.prefix) || prepare === undefined)
    return undefined;
  const pre = prePacked.get(entries);
  // Entries packed while splitting the text share the template chosen there.
  let template: StoreConfig | undefined;
  let tuples: number[][] = [];
  return {
    add(index, c, where) {
      if (!isFactoryEntry(spec, index, c)) return false;
      const arg = c.config.args[0] as string;
      if (template === undefined && (pre === undefined || c === pre.template)) {
        prepare(c, where); // the template's checks: type, schema, location
        template = c;
      } else if (template !== undefined && sameButPath(template, c)) {
        ctx.resolvePath(arg, memberPath(where, "config", "args", 0));
      } else return false;
      tuples.push(index);
      return true;
    },
    done(made) {
      if (pre !== undefined && template === pre.template && sameSpec(pre.spec, spec)) {
        // Checked as their entries would have been (path, confinement, real path), then kept as tuples.
        for (const index of pre.tuples) {
          const where = `${at}["${index.join(pre.sep)}"]`;
          ctx.resolvePath(factoryPath(spec, index), memberPath(where, "config", "args", 0));
          tuples.push(index);
        }
        pre.taken = true;
        pre.tuples = []; // the factory below lives as long as the composition; these need not
      }
      if (template === undefined) return undefined;
      const t = template;
      const indices = compactIndices(tuples);
      tuples = [];
      const listed = new IndexSet(indices);
      const open = (index: readonly number[]) => {
        const id = index.join(spec.separator);
        const c = {
          ...t,
          config: { ...t.config, args: [factoryPath(spec, index), ...t.config.args.slice(1)] },
        };
        return prepare(c, `${at}["${id}"]`)();
      };
      const factory: ArrayShardFactory = Object.assign(
        (index: number[]) => (listed.has(index) ? open(index) : made(index)),
        made,
        { expanded: true },
      );
      return { factory, indices };
    },
  };
}
