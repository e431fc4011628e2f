import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import "../src/config/node-types.js";
import { shardedStoreFromConfig } from "../src/config/codec.js";
import { openShardedStore } from "../src/config/node-io.js";
import { ConfigError } from "../src/errors.js";
import { ShardedStore } from "../src/sharded-store.js";
import { thrown } from "./helpers/config-common.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-config-bad-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
const dirStore = (p: string, kwargs: Json = {}) => ({
  name: "DirectoryStore",
  module: "zarr.storage",
  config: { args: [p], kwargs },
});
/** A valid config; each case breaks one member of a copy. */
const good = () => ({
  name: "ShardedStore",
  module: "shardedstore",
  config: {
    args: [dirStore("base.zarr")] as unknown[],
    kwargs: {
      dimension_separator: "/",
      shards: { people: dirStore("people.zarr") } as Record<string, Json>,
      array_shard_dims: { "sim/foo": 1 } as Json,
      array_shards: { "sim/foo": { "0": dirStore("foo/0.zarr") } } as Record<string, Json>,
      array_shard_factories: { "sim/foo": { kind: "directory", prefix: "foo" } } as Json,
    } as Json & {
      shards: Record<string, Json>;
      array_shard_dims: Json;
      array_shards: Record<string, Json>;
    },
  },
});
type Config = ReturnType<typeof good>;
const people = (c: Config) => c.config.kwargs.shards.people as ReturnType<typeof dirStore>;

/** [what, how to break the good config, the message (exact, or a fragment after `…`)]. */
const cases: [string, (c: Config) => unknown, string][] = [
  ["text that is not JSON", () => "{not json", "(root): is not valid JSON: …"],
  ["a number", () => 42, "(root): must be object, got number"],
  ["an array", () => [], "(root): must be object, got array"],
  [
    "a composition with another name",
    (c) => ({ ...c, name: "Nope" }),
    '…name: must be "ShardedStore" for a composition, got "Nope"',
  ],
  [
    "a composition from another module",
    (c) => ({ ...c, module: "zarr.storage" }),
    'module: must be "shardedstore" for a composition, got "zarr.storage"',
  ],
  ["a name that is not a string", (c) => ({ ...c, name: 7 }), "name: must be string, got number"],
  ["a version that is not a string", (c) => ({ ...c, version: 1 }), "version: must be string, got number"],
  ["no config member", (c) => ({ name: c.name, module: c.module }), "config: is required"],
  ["no args", (c) => ({ ...c, config: { kwargs: c.config.kwargs } }), "config.args: is required"],
  [
    "a shard without kwargs",
    (c) => {
      delete (people(c).config as Partial<Json>).kwargs;
      return c;
    },
    "config.kwargs.shards.people.config.kwargs: is required",
  ],
  [
    "args that are not an array",
    (c) => ({ ...c, config: { ...c.config, args: {} } }),
    "config.args: must be array, got object",
  ],
  [
    "two base stores",
    (c) => ({ ...c, config: { ...c.config, args: [dirStore("a"), dirStore("b")] } }),
    "config.args: must NOT have more than 1 items",
  ],
  [
    "a base that is not a store config",
    (c) => ({ ...c, config: { ...c.config, args: ["base.zarr"] } }),
    "config.args[0]: must be object, got string",
  ],
  [
    "an unknown store type",
    (c) => {
      people(c).name = "CloudStore";
      return c;
    },
    'config.kwargs.shards.people.name: unknown store type "zarr.storage.CloudStore" (known: …',
  ],
  [
    "a known name from an unknown module",
    (c) => {
      people(c).module = "nowhere";
      return c;
    },
    'config.kwargs.shards.people.module: unknown store type "nowhere.DirectoryStore" …',
  ],
  [
    "a shard without a name",
    (c) => {
      delete (people(c) as Partial<Json>).name;
      return c;
    },
    "config.kwargs.shards.people.name: is required",
  ],
  [
    "kwargs that are an array",
    (c) => {
      (people(c).config as Json).kwargs = [];
      return c;
    },
    "config.kwargs.shards.people.config.kwargs: must be object, got array",
  ],
  [
    "a directory path that is a number",
    (c) => {
      people(c).config.args = [3] as never;
      return c;
    },
    "config.kwargs.shards.people.config.args[0]: must be string, got number",
  ],
  [
    "a directory without a path",
    (c) => {
      people(c).config.args = [];
      return c;
    },
    "config.kwargs.shards.people.config.args: must NOT have fewer than 1 items",
  ],
  [
    "a DirectoryStore argument zarr-python does not know",
    (c) => {
      people(c).config.kwargs = { colour: "red" };
      return c;
    },
    "config.kwargs.shards.people.config.kwargs.colour: is not allowed here",
  ],
  [
    "normalize_keys (keys would be lower-cased)",
    (c) => {
      people(c).config.kwargs = { normalize_keys: true };
      return c;
    },
    "config.kwargs.shards.people.config.kwargs.normalize_keys: must be one of [false], got true",
  ],
  [
    "a mount path with ..",
    (c) => {
      c.config.kwargs.shards["a/../b"] = dirStore("x");
      return c;
    },
    'config.kwargs.shards["a/../b"]: mount path "a/../b" has an invalid segment ".."',
  ],
  [
    "overlapping group mounts",
    (c) => {
      c.config.kwargs.shards["people/inner"] = dirStore("inner.zarr");
      return c;
    },
    'config.kwargs: mount "people/inner" is inside mount "people"; mounts cannot nest',
  ],
  [
    "an array shard inside a group shard",
    (c) => {
      c.config.kwargs.shards.sim = dirStore("sim.zarr");
      return c;
    },
    'config.kwargs: mount "sim/foo" is inside mount "sim"; mounts cannot nest',
  ],
  [
    "negative dims",
    (c) => {
      c.config.kwargs.array_shard_dims["sim/foo"] = -1;
      return c;
    },
    'config.kwargs.array_shard_dims["sim/foo"]: must be >= 1',
  ],
  [
    "non-integer dims",
    (c) => {
      c.config.kwargs.array_shard_dims["sim/foo"] = 1.5;
      return c;
    },
    'config.kwargs.array_shard_dims["sim/foo"]: must be integer, got number',
  ],
  [
    "dims given as a string",
    (c) => {
      c.config.kwargs.array_shard_dims["sim/foo"] = "1";
      return c;
    },
    'config.kwargs.array_shard_dims["sim/foo"]: must be integer, got string',
  ],
  [
    "dims that disagree with the index tuples",
    (c) => {
      c.config.kwargs.array_shard_dims["sim/foo"] = 2;
      return c;
    },
    'config.kwargs.array_shards["sim/foo"]["0"]: index tuple has 1 indices, but array_shard_dims says 2',
  ],
  [
    "an index key that is not an index tuple",
    (c) => {
      c.config.kwargs.array_shards["sim/foo"]!["a/b"] = dirStore("foo/a.zarr");
      return c;
    },
    'config.kwargs.array_shards["sim/foo"]["a/b"]: is not an index tuple like "0/1" or "0.1"',
  ],
  [
    "an index with a leading zero",
    (c) => {
      c.config.kwargs.array_shards["sim/foo"]!["01"] = dirStore("foo/01.zarr");
      return c;
    },
    'config.kwargs.array_shards["sim/foo"]["01"]: is not an index tuple like "0/1" or "0.1"',
  ],
  [
    "a negative index",
    (c) => {
      c.config.kwargs.array_shards["sim/foo"]!["-1"] = dirStore("foo/-1.zarr");
      return c;
    },
    'config.kwargs.array_shards["sim/foo"]["-1"]: is not an index tuple like "0/1" or "0.1"',
  ],
  [
    "an index tuple mixing separators",
    (c) => {
      c.config.kwargs.array_shard_dims["sim/bar"] = 3;
      c.config.kwargs.array_shards["sim/bar"] = { "0/1.2": dirStore("bar/0/1/2.zarr") };
      return c;
    },
    `config.kwargs.array_shards["sim/bar"]["0/1.2"]: mixes '/' and '.' in an index tuple`,
  ],
  [
    "the same index twice",
    (c) => {
      c.config.kwargs.array_shards["sim/bar"] = {
        "0/1": dirStore("bar/0/1.zarr"),
        "0.1": dirStore("bar/0.1.zarr"),
      };
      return c;
    },
    'config.kwargs.array_shards["sim/bar"]["0.1"]: is the same index as "0/1"',
  ],
  [
    "an array shard with neither dims nor index stores",
    (c) => {
      c.config.kwargs.array_shards["sim/empty"] = {};
      return c;
    },
    'config.kwargs.array_shard_dims["sim/empty"]: is required when an array shard has no index stores',
  ],
  [
    "a bad dimension_separator",
    (c) => {
      c.config.kwargs.dimension_separator = "-";
      return c;
    },
    'config.kwargs.dimension_separator: must be one of [".","/",null], got "-"',
  ],
  [
    "compact index boxes of the wrong length",
    (c) => {
      (c.config.kwargs as Json).array_shard_indices = { "sim/foo": [[[0, 4], 2]] };
      return c;
    },
    'config.kwargs.array_shard_indices["sim/foo"][0]: has 2 ranges, but the array is sharded over 1 dims',
  ],
  [
    "a compact index range that is empty",
    (c) => {
      (c.config.kwargs as Json).array_shard_indices = { "sim/foo": [[[4, 4]]] };
      return c;
    },
    'config.kwargs.array_shard_indices["sim/foo"][0][0]: range [4, 4) is empty (start must be below stop)',
  ],
  [
    "a compact index that is negative",
    (c) => {
      (c.config.kwargs as Json).array_shard_indices = { "sim/foo": [[-1]] };
      return c;
    },
    'config.kwargs.array_shard_indices["sim/foo"][0][0]: …',
  ],
  [
    "compact indices for an array that is not sharded",
    (c) => {
      (c.config.kwargs as Json).array_shard_indices = { "sim/bar": [[0]] };
      return c;
    },
    'config.kwargs.array_shard_indices["sim/bar"]: names no array in array_shard_dims or array_shards',
  ],
  [
    "compact indices without a factory",
    (c) => {
      delete (c.config.kwargs as Json).array_shard_factories;
      c.config.kwargs.array_shards["sim/foo"] = {};
      (c.config.kwargs as Json).array_shard_indices = { "sim/foo": [[[0, 3]]] };
      return c;
    },
    'config.kwargs.array_shard_indices["sim/foo"]: needs a factory in array_shard_factories to open its index stores',
  ],
  [
    "a factory without a prefix",
    (c) => {
      c.config.kwargs.array_shard_factories = { "sim/foo": { kind: "zip" } };
      return c;
    },
    'config.kwargs.array_shard_factories["sim/foo"].prefix: is required',
  ],
  [
    "a factory for an array that is not sharded",
    (c) => {
      c.config.kwargs.array_shard_factories = { other: { kind: "zip", prefix: "other" } };
      return c;
    },
    "config.kwargs.array_shard_factories.other: names no array in array_shard_dims or array_shards",
  ],
  [
    "a factory prefix that escapes baseDir",
    (c) => {
      c.config.kwargs.array_shard_factories = { "sim/foo": { kind: "zip", prefix: "../up" } };
      return c;
    },
    'config.kwargs.array_shard_factories["sim/foo"].prefix: path "../up" resolves to …, outside …',
  ],
  [
    "a zip mode that is not r, a or w",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "ZipStore",
        module: "zarr.storage",
        config: { args: ["p.zip"], kwargs: { mode: "x" } },
      };
      return c;
    },
    'config.kwargs.shards.people.config.kwargs.mode: must be one of ["r","a","w"], got "x"',
  ],
  [
    "a zip that shardedstore should open for writing",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "ZipStore",
        module: "zarr.storage",
        config: { args: ["p.zip"], kwargs: { mode: "r" }, shardedstore: { mode: "w" } },
      };
      return c;
    },
    'config.kwargs.shards.people.config.shardedstore.mode: must be one of ["r","a"], got "w"',
  ],
  [
    "a URL zip that is a path",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "ZipStore",
        module: "shardedstore",
        config: { args: ["p.zip"], kwargs: {} },
      };
      return c;
    },
    'config.kwargs.shards.people.config.args[0]: must match pattern "^(https?|s3)://"',
  ],
  [
    "an FSStore URL of an unsupported scheme",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "FSStore",
        module: "zarr.storage",
        config: { args: ["gopher://x/y"], kwargs: {} },
      };
      return c;
    },
    'config.kwargs.shards.people.config.args[0]: unsupported URL scheme in "gopher://x/y" (http, https, s3, file or a path)',
  ],
  [
    "a FetchStore with a status that is not one",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "FetchStore",
        module: "shardedstore",
        config: { args: ["https://example.com/d"], kwargs: { missingStatuses: [404, 4040] } },
      };
      return c;
    },
    "config.kwargs.shards.people.config.kwargs.missingStatuses[1]: must be <= 599",
  ],
  [
    "an S3 store without a bucket",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "S3Store",
        module: "shardedstore",
        config: { args: [], kwargs: {} },
      };
      return c;
    },
    "config.kwargs.shards.people.config.kwargs.bucket: is required",
  ],
  [
    "an S3 store with credentials in the config",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "S3Store",
        module: "shardedstore",
        config: { args: [], kwargs: { bucket: "b", secretAccessKey: "x" } },
      };
      return c;
    },
    "config.kwargs.shards.people.config.kwargs.secretAccessKey: is not allowed here",
  ],
  [
    "memory contents that are not base64",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "MemoryStore",
        module: "shardedstore",
        config: { args: [], kwargs: { entries: { "/a": "not base64!" } } },
      };
      return c;
    },
    'config.kwargs.shards.people.config.kwargs.entries["/a"]: must match pattern "^[A-Za-z0-9+/]*={0,2}$"',
  ],
  [
    "a bad member deep in a nested composition",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "ShardedStore",
        module: "shardedstore",
        config: {
          args: [dirStore("p.zarr")],
          kwargs: { shards: { x: { module: "zarr.storage", config: { args: ["x"], kwargs: {} } } } },
        },
      };
      return c;
    },
    "config.kwargs.shards.people.config.kwargs.shards.x.name: is required",
  ],
  [
    "a relative path that escapes baseDir",
    (c) => {
      people(c).config.args = ["../../etc"];
      return c;
    },
    'config.kwargs.shards.people.config.args[0]: path "../../etc" resolves to …, outside …',
  ],
  [
    "an absolute path outside baseDir",
    (c) => {
      (c.config.args[0] as ReturnType<typeof dirStore>).config.args = ["/tmp/elsewhere"];
      return c;
    },
    'config.args[0].config.args[0]: path "/tmp/elsewhere" resolves to /tmp/elsewhere, outside …',
  ],
  [
    "a file URL outside baseDir",
    (c) => {
      c.config.kwargs.shards.people = {
        name: "FSStore",
        module: "zarr.storage",
        config: { args: ["file:///etc"], kwargs: {} },
      };
      return c;
    },
    'config.kwargs.shards.people.config.args[0]: path "/etc" resolves to /etc, outside …',
  ],
];

/** `a…b…` → a regular expression: exact text, `…` for anything. */
const pattern = (message: string) =>
  new RegExp(
    `^${message
      .split("…")
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "s",
  );

describe("bad configs", () => {
  it(`form a corpus of at least 20 (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(cases.map(([what]) => what)).size).toBe(cases.length);
  });

  it("start from a config that opens", () => {
    const store = shardedStoreFromConfig(good(), { baseDir: dir, confine: true });
    expect(store).toBeInstanceOf(ShardedStore);
  });

  for (const [what, make, message] of cases) {
    it(`rejects ${what}, naming the member, without touching the disk`, async () => {
      const baseDir = await mkdtemp(path.join(dir, "case-"));
      const config = make(structuredClone(good()));
      const err = thrown(() => shardedStoreFromConfig(config, { baseDir, confine: true }));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(pattern(message));
      expect((err as ConfigError).path).toBe(err.message.slice(0, err.message.indexOf(": ")));
      expect(await readdir(baseDir)).toEqual([]);
    });
  }

  it("refuses confinement without a baseDir", () => {
    expect(thrown(() => shardedStoreFromConfig(good(), { confine: true })).message).toBe(
      "(root): confine needs a baseDir",
    );
  });

  it("reports a config file that is missing or not JSON, and confines paths to the file's folder on request", async () => {
    await expect(openShardedStore(`${dir}/nope.json`)).rejects.toThrow(
      /^\(file\): cannot read .*nope\.json: ENOENT/,
    );
    await writeFile(`${dir}/broken.json`, "{");
    await expect(openShardedStore(`${dir}/broken.json`)).rejects.toThrow(
      /^\(root\): .*broken\.json is not valid JSON: /,
    );
    await mkdir(`${dir}/confined`);
    const escaping = good();
    people(escaping).config.args = ["../people.zarr"];
    await writeFile(`${dir}/confined/c.json`, JSON.stringify(escaping));
    await expect(openShardedStore(`${dir}/confined/c.json`, { confine: true })).rejects.toThrow(
      `config.kwargs.shards.people.config.args[0]: path "../people.zarr" resolves to ${dir}/people.zarr, outside ${dir}/confined`,
    );
    expect(await openShardedStore(`${dir}/confined/c.json`)).toBeInstanceOf(ShardedStore);
    expect(await readdir(`${dir}/confined`)).toEqual(["c.json"]);
  });
});
