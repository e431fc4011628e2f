// Array-shard factories in configs: described by `{ kind, prefix, separator }`, rebuilt by kind.
import { ConfigError } from "../errors.js";
import type { ArrayShardFactory } from "../types.js";
import type { FromConfigContext, StoreConfig } from "./registry.js";

/**
 * Makes the array-shard factory of a kind for a prefix (an absolute path for the path kinds).
 *
 * @example
 * ```ts
 * const make: FactoryMaker = (prefix, separator) => arrayShardDirectoryStore(prefix, { separator });
 * ```
 */
export type FactoryMaker = (
  prefix: string,
  separator: "/" | ".",
  ctx?: FromConfigContext,
) => ArrayShardFactory;

/**
 * How a factory is written in `array_shard_factories`: a factory that carries it as its
 * `factorySpec` property survives a config round trip.
 *
 * @example
 * ```ts
 * const spec: FactorySpec = { kind: "directory", prefix: "/data/shards/foo", separator: "/" };
 * ```
 */
export interface FactorySpec {
  kind: string;
  prefix: string;
  separator: "/" | ".";
}

/** The kinds of this package; they are registered by the Node entry, so elsewhere they stay lazy errors. */
const BUILT_IN_KINDS = ["directory", "zip"];
const kinds = new Map<string, FactoryMaker>();

/**
 * Registers how configs rebuild array-shard factories of a kind. A factory of your own survives a
 * round trip when it carries `factorySpec: { kind, prefix, separator }` and its kind is registered
 * wherever the config is read.
 *
 * @example
 * ```ts
 * registerFactoryKind("memory", () => Object.assign(() => new MemoryStore(), { factorySpec: { kind: "memory", prefix: "mem:", separator: "/" } }));
 * ```
 */
export function registerFactoryKind(kind: string, make: FactoryMaker): void {
  kinds.set(kind, make);
}

/** The spec a factory carries, if any. */
export function factorySpecOf(f: ArrayShardFactory): FactorySpec | undefined {
  const spec = (f as { factorySpec?: Partial<FactorySpec> }).factorySpec;
  if (spec === undefined || typeof spec.kind !== "string" || typeof spec.prefix !== "string")
    return undefined;
  return { kind: spec.kind, prefix: spec.prefix, separator: spec.separator === "." ? "." : "/" };
}

/** A prefix that is a URL (`s3://…`, `https://…`) is not a path: written and read as it is. */
export function isUrlLike(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(p);
}

/** The name suffix of a directory or zip index store, by factory kind. */
export const INDEX_SUFFIX: Readonly<Record<string, string>> = { directory: ".zarr", zip: ".zarr.zip" };

/** The factory kind that opens a store config's kind of store: "zip", "directory", or null. */
export const factoryKindOf = (config: StoreConfig): "zip" | "directory" | null =>
  config.name === "ZipStore" ? "zip" : config.name.endsWith("DirectoryStore") ? "directory" : null;

/**
 * The Python original stores no factory: recognise the index stores' `prefix/i/j.zarr` (or
 * `.zarr.zip`, or `prefix/i.j.zarr`) paths. Undefined when they follow no single pattern.
 */
export function inferFactory(entries: Readonly<Record<string, StoreConfig>>): FactorySpec | undefined {
  let found: FactorySpec | undefined;
  for (const id in entries) {
    const config = entries[id] as StoreConfig;
    const arg = config.config.args[0];
    if (typeof arg !== "string") return undefined;
    const kind = factoryKindOf(config);
    if (kind === null) return undefined;
    const suffix = INDEX_SUFFIX[kind] as string;
    const compound = id.includes("/") || id.includes(".");
    // The common case, one string comparison: the entry is where the factory found so far puts it.
    if (found !== undefined && found.kind === kind && (!compound || id.includes(found.separator))) {
      const at = found.prefix.length;
      if (
        arg.length === at + 1 + id.length + suffix.length &&
        arg.startsWith(found.prefix) &&
        arg.charCodeAt(at) === 47 &&
        arg.startsWith(id, at + 1) &&
        arg.endsWith(suffix)
      )
        continue;
    }
    let spec: FactorySpec | undefined;
    for (const sep of ["/", "."] as const) {
      const name = `/${id.split(/[./]/).join(sep)}${suffix}`;
      if (arg.endsWith(name)) spec = { kind, prefix: arg.slice(0, -name.length), separator: sep };
      // An index of one number is written alike with either separator: take the other entries' one.
      if (spec && !compound) break;
    }
    if (spec === undefined) return undefined;
    if (found && (found.kind !== spec.kind || found.prefix !== spec.prefix)) return undefined;
    if (found === undefined || compound) found = spec;
  }
  return found;
}

/** A factory that cannot create index stores (reads of missing ones find nothing), carrying its spec. */
function cannotCreate(spec: FactorySpec | undefined, reason: string): ArrayShardFactory {
  const factory: ArrayShardFactory = (index) => {
    throw new ConfigError(
      "array_shard_factories",
      `cannot open index store [${index.join(", ")}]: ${reason}`,
    );
  };
  factory.cannotCreate = reason;
  if (spec !== undefined) (factory as { factorySpec?: FactorySpec }).factorySpec = spec;
  return factory;
}

/**
 * The factory a spec describes. A kind that is not registered here (an unknown kind, or a built-in
 * kind in a browser) gives a factory that cannot create index stores: the config still reads (the
 * index stores it lists open as they are), and only growing the array into a new index store fails,
 * with an error naming the kind. The spec is kept, so saving the config again keeps the factory.
 */
export function makeFactory(
  arrayPath: string,
  spec: FactorySpec | undefined,
  ctx: FromConfigContext,
  where: string,
): ArrayShardFactory {
  if (spec === undefined) {
    return cannotCreate(undefined, `array shard "${arrayPath}" has no factory in its config (${where})`);
  }
  const make = kinds.get(spec.kind);
  // Paths and http(s)/s3/file URLs go through the resolver (the caller's confinement and URL
  // policy apply); a kind of one's own may use a scheme of its own ("mem:"), kept as it is.
  const prefix =
    isUrlLike(spec.prefix) && !/^(https?|s3|file):/i.test(spec.prefix)
      ? spec.prefix
      : ctx.resolvePath(spec.prefix, `${where}.prefix`);
  if (make === undefined) {
    const known = [...new Set([...BUILT_IN_KINDS, ...kinds.keys()])].join(", ");
    const reason = BUILT_IN_KINDS.includes(spec.kind)
      ? `no "${spec.kind}" array-shard factory here (${where}.kind; import shardedstore/node)`
      : `unknown array-shard factory kind ${JSON.stringify(spec.kind)} (${where}.kind; known: ${known}; register it with registerFactoryKind)`;
    return cannotCreate({ ...spec, prefix }, reason);
  }
  return make(prefix, spec.separator, ctx);
}
