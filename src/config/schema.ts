// The published JSON Schema (config.schema.json is written from this module by scripts/write-schema.mjs).

// Builders of the recurring shapes, so the schema (which bundles carry) stays short; each returns
// the plain JSON Schema object, members in the order config.schema.json has them.
const path = { type: "string", minLength: 1 } as const;
const separator = { enum: [".", "/", null] } as const;
const bool = { type: "boolean" } as const;
const store = { $ref: "#/definitions/store" } as const;
const noArgs = { type: "array", maxItems: 0 } as const;
const index = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
/** An integer of at least `minimum`. */
const int = (minimum: number) => ({ type: "integer", minimum }) as const;
/** A string matching `pattern`. */
const matching = (pattern: string) => ({ type: "string", pattern }) as const;
/** An object whose every member is `each`. */
const mapOf = <T>(each: T) => ({ type: "object", additionalProperties: each }) as const;
/** `args` of one positional argument. */
const oneArg = <T>(arg: T) => ({ type: "array", minItems: 1, maxItems: 1, items: [arg] }) as const;
/** An object with these members and no others. */
const only = <T>(properties: T) => ({ additionalProperties: false, properties }) as const;
/** Only shardedstore reads `config.shardedstore`; zarr-python reads `args` and `kwargs` alone. */
const extras = <T>(properties: T) => ({ type: "object", ...only(properties) }) as const;

/** The remote options of FetchStore, S3Store and ZipStore over a URL (see docs/remote.md). */
const remote = { timeout: int(1), retries: int(0), concurrency: int(1) } as const;
const fullBodyLimit = int(0);

/** A `then` branch for the store configs of one type (or of several names of it). */
const storeType = (module: string, names: string[], config: string) => ({
  if: {
    required: ["name", "module"],
    properties: { name: { enum: names }, module: { const: module } },
  },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
  then: { properties: { config: { $ref: `#/definitions/${config}` } } },
});

/** The schema as checked (schema-check.ts): without the documentation, which bundles need not carry. */
const checkedSchema = {
  $ref: "#/definitions/store",
  definitions: {
    store: {
      type: "object",
      required: ["name", "module", "config"],
      properties: {
        name: path,
        module: path,
        version: { type: "string" },
        config: {
          type: "object",
          required: ["args", "kwargs"],
          properties: {
            args: { type: "array" },
            kwargs: { type: "object" },
            path_relative_to: { enum: ["config_dir"] },
            shardedstore: { type: "object" },
          },
        },
      },
      allOf: [
        storeType("shardedstore", ["ShardedStore"], "shardedStoreConfig"),
        storeType("zarr.storage", ["DirectoryStore", "NestedDirectoryStore"], "directoryStoreConfig"),
        storeType("shardedstore", ["DirectoryStore"], "directoryStoreConfig"),
        storeType("zarr.storage", ["ZipStore"], "zipStoreConfig"),
        storeType("shardedstore", ["ZipStore"], "urlZipStoreConfig"),
        storeType("zarr.storage", ["FSStore"], "fsStoreConfig"),
        storeType("shardedstore", ["FetchStore"], "fetchStoreConfig"),
        storeType("shardedstore", ["MemoryStore"], "memoryStoreConfig"),
        storeType("shardedstore", ["S3Store"], "s3StoreConfig"),
      ],
    },
    shardedStoreConfig: {
      type: "object",
      properties: {
        args: { type: "array", minItems: 1, maxItems: 1, items: store },
        kwargs: {
          type: "object",
          properties: {
            dimension_separator: separator,
            shards: mapOf(store),
            array_shard_dims: mapOf(int(1)),
            array_shards: mapOf({
              type: "object",
              propertyNames: { pattern: "^(0|[1-9][0-9]*)([./](0|[1-9][0-9]*))*$" },
              additionalProperties: store,
            }),
            array_shard_indices: mapOf({
              type: "array",
              items: {
                type: "array",
                minItems: 1,
                items: { oneOf: [index, { type: "array", minItems: 2, maxItems: 2, items: index }] },
              },
            }),
            array_shard_factories: mapOf({
              type: "object",
              required: ["kind", "prefix"],
              ...only({
                kind: matching("^[A-Za-z][\\w.-]*$"),
                prefix: path,
                separator: { enum: ["/", "."] },
              }),
            }),
          },
        },
      },
    },
    directoryStoreConfig: {
      properties: {
        args: oneArg(path),
        kwargs: only({ normalize_keys: { enum: [false] }, dimension_separator: separator }),
      },
    },
    zipStoreConfig: {
      properties: {
        args: oneArg(path),
        kwargs: only({
          mode: { enum: ["r", "a", "w"] },
          compression: int(0),
          allowZip64: bool,
          dimension_separator: separator,
        }),
        shardedstore: extras({ mode: { enum: ["r", "a"] } }),
      },
    },
    urlZipStoreConfig: {
      properties: {
        args: oneArg(matching("^(https?|s3)://")),
        kwargs: only({ ...remote, fullBodyLimit }),
      },
    },
    fsStoreConfig: {
      properties: {
        args: oneArg(path),
        kwargs: {
          properties: {
            mode: { enum: ["r", "w", "a"] },
            normalize_keys: { enum: [false] },
            key_separator: separator,
            dimension_separator: separator,
          },
        },
        shardedstore: extras({ ...remote, fullBodyLimit }),
      },
    },
    fetchStoreConfig: {
      properties: {
        args: oneArg(matching("^https?://")),
        kwargs: only({
          ...remote,
          fullBodyLimit,
          writable: bool,
          missingStatuses: {
            type: "array",
            items: { type: "integer", minimum: 100, maximum: 599 },
            uniqueItems: true,
          },
        }),
      },
    },
    memoryStoreConfig: {
      properties: {
        args: noArgs,
        kwargs: only({
          entries: {
            type: "object",
            propertyNames: { pattern: "^/" },
            additionalProperties: matching("^[A-Za-z0-9+/]*={0,2}$"),
          },
        }),
      },
    },
    s3StoreConfig: {
      properties: {
        args: noArgs,
        kwargs: {
          required: ["bucket"],
          ...only({
            bucket: path,
            prefix: { type: "string" },
            region: path,
            endpoint: matching("^https?://"),
            forcePathStyle: bool,
            ...remote,
          }),
        },
      },
    },
  },
} as const;

/** The documentation of the published schema, by JSON pointer (without the leading `/`). */
const DOCS: Record<string, string> = {
  "definitions/directoryStoreConfig":
    "zarr.storage.DirectoryStore(path, normalize_keys=False, dimension_separator=None)",
  "definitions/zipStoreConfig":
    'zarr.storage.ZipStore(path, compression, allowZip64, mode, dimension_separator). "w" (which would clobber the archive) opens read-only; config.shardedstore.mode "a" keeps a writable archive writable without zarr-python opening it for writing.',
  "definitions/urlZipStoreConfig":
    "A read-only zip read by range requests: over HTTP(S), or in S3 (s3://bucket/key?endpoint=…&region=…&forcePathStyle=true, read through an S3Store with signed requests).",
  "definitions/fsStoreConfig":
    "zarr.storage.FSStore(url, normalize_keys, key_separator, mode, exceptions, dimension_separator, **storage_options): an http(s) URL, a file:// URL or a local path.",
  "definitions/fetchStoreConfig":
    "A FetchStore that zarr-python's FSStore cannot stand for (writable, or other missing statuses).",
  "definitions/memoryStoreConfig": "An in-memory store with its contents inline (key → base64).",
  "definitions/s3StoreConfig": "An S3 bucket and key prefix; credentials never go into a config.",
  "definitions/shardedStoreConfig/properties/kwargs/properties/array_shard_indices":
    "Compact form: per array, the boxes of index tuples whose index stores exist and are the factory's output. A box has one entry per sharded dim: an index, or a half-open range [start, stop).",
};

/** `schema` with the documentation members, each first in its object (as config.schema.json has them). */
function documented<T extends object>(
  schema: T,
): T & { $schema: string; $id: string; title: string; description: string } {
  const at = (o: unknown, path: string): unknown => {
    if (typeof o !== "object" || o === null || Array.isArray(o)) return o;
    const out: Record<string, unknown> = DOCS[path] !== undefined ? { description: DOCS[path] } : {};
    for (const [k, v] of Object.entries(o)) out[k] = at(v, path === "" ? k : `${path}/${k}`);
    return out;
  };
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://github.com/shardedstore/shardedstore/config.schema.json",
    title: "shardedstore composition config",
    description:
      "A store config in the envelope of thewtex/shardedstore 0.3.1: { name, module, version?, config: { args, kwargs } }. A ShardedStore nests the configs of its base, group shards and array-shard index stores. zarr-python reads only config.args and config.kwargs; config.shardedstore holds what only shardedstore reads.",
    ...(at(schema, "") as T),
  };
}

/**
 * The JSON Schema of a composition config: the Python original's envelope, the sharded store's
 * members (plus our optional `array_shard_factories`), and the `config` of every built-in store
 * type. Published as `shardedstore/config.schema.json`; store types registered by users are
 * checked by their own `configSchema`.
 *
 * @example
 * ```ts
 * import schema from "shardedstore/config.schema.json" with { type: "json" };
 * ```
 */
export const configSchema = /* @__PURE__ */ documented(checkedSchema);

/**
 * The schema that {@link configSchema} documents, without its documentation members (`title`,
 * `description`, `$schema`, `$id`): what validate.ts checks configs against.
 *
 * @example
 * ```ts
 * compileSchema(undocumentedConfigSchema)({}); // false
 * ```
 */
export const undocumentedConfigSchema = checkedSchema;
