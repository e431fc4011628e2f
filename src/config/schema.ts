/**
 * The JSON Schema of a composition config (the Python original's envelope, plus our optional
 * `array_shard_factories`). Published as `shardedstore/config.schema.json`.
 *
 * @example
 * ```ts
 * import schema from "shardedstore/config.schema.json" with { type: "json" };
 * ```
 */
export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://github.com/shardedstore/shardedstore/config.schema.json",
  title: "shardedstore composition config",
  description:
    "A store config in the envelope of thewtex/shardedstore 0.3.1: { name, module, version?, config: { args, kwargs } }. A ShardedStore nests the configs of its base, group shards and array-shard index stores.",
  $ref: "#/definitions/store",
  definitions: {
    store: {
      type: "object",
      required: ["name", "module", "config"],
      properties: {
        name: { type: "string", minLength: 1 },
        module: { type: "string", minLength: 1 },
        version: { type: "string" },
        config: {
          type: "object",
          required: ["args", "kwargs"],
          properties: {
            args: { type: "array" },
            kwargs: { type: "object" },
            path_relative_to: { enum: ["config_dir"] },
          },
        },
      },
      if: { required: ["name"], properties: { name: { const: "ShardedStore" } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
      then: { properties: { config: { $ref: "#/definitions/shardedStoreConfig" } } },
    },
    shardedStoreConfig: {
      type: "object",
      properties: {
        args: { type: "array", minItems: 1, maxItems: 1, items: { $ref: "#/definitions/store" } },
        kwargs: {
          type: "object",
          properties: {
            dimension_separator: { enum: ["/", ".", null] },
            shards: { type: "object", additionalProperties: { $ref: "#/definitions/store" } },
            array_shard_dims: { type: "object", additionalProperties: { type: "integer", minimum: 1 } },
            array_shards: {
              type: "object",
              additionalProperties: {
                type: "object",
                propertyNames: { pattern: "^(0|[1-9][0-9]*)([./](0|[1-9][0-9]*))*$" },
                additionalProperties: { $ref: "#/definitions/store" },
              },
            },
            array_shard_factories: {
              type: "object",
              additionalProperties: {
                type: "object",
                required: ["kind", "prefix"],
                additionalProperties: false,
                properties: {
                  kind: { enum: ["directory", "zip"] },
                  prefix: { type: "string", minLength: 1 },
                  separator: { enum: ["/", "."] },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;
