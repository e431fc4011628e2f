import { readdir, readFile } from "node:fs/promises";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { configSchema } from "../src/config/schema.js";
import { validateConfig } from "../src/config/validate.js";
import { expectSchemaValid, SEED } from "./helpers/config-common.js";

const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8"));
const file = JSON.parse(await readFile(new URL("../config.schema.json", import.meta.url), "utf8"));

describe("the published JSON Schema", () => {
  it("is shardedstore/config.schema.json, the same as the schema the codec validates with", () => {
    expect(pkg.exports["./config.schema.json"]).toBe("./config.schema.json");
    expect(pkg.files).toContain("config.schema.json");
    expect(file).toEqual(JSON.parse(JSON.stringify(configSchema)));
  });

  it("is a valid draft-07 schema", () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(file), JSON.stringify(ajv.errors)).toBe(true);
  });

  it("accepts the Python original's configs", async () => {
    for (const flavour of ["slash", "dot"]) {
      const config = JSON.parse(await readFile(`${SEED}${flavour}/config.json`, "utf8"));
      expectSchemaValid(config, flavour);
      expect(() => validateConfig(config)).not.toThrow();
    }
  });

  it("rejects what zarr-python's constructors would reject, with the published file alone", () => {
    const validate = new Ajv({ strict: false }).compile(file);
    const withBase = (base: unknown) => ({
      name: "ShardedStore",
      module: "shardedstore",
      config: { args: [base], kwargs: {} },
    });
    const zip = (kwargs: unknown) => ({
      name: "ZipStore",
      module: "zarr.storage",
      config: { args: ["a.zip"], kwargs },
    });
    expect(validate(withBase(zip({ mode: "r", allowZip64: true })))).toBe(true);
    expect(validate(withBase(zip({ mode: "rw" })))).toBe(false);
    expect(validate(withBase(zip({ compresion: 0 })))).toBe(false);
    const dir = (args: unknown[]) => ({
      name: "DirectoryStore",
      module: "zarr.storage",
      config: { args, kwargs: {} },
    });
    expect(validate(withBase(dir(["a"])))).toBe(true);
    expect(validate(withBase(dir([])))).toBe(false);
    expect(validate(withBase(dir(["a", "b"])))).toBe(false);
    // Store types it does not know are left to their own registration.
    expect(
      validate(withBase({ name: "RedisStore", module: "my-app", config: { args: [1], kwargs: { x: 1 } } })),
    ).toBe(true);
  });
});

describe("the config codec", () => {
  it("stays browser-safe: only node-*.ts files under src/config import node: modules", async () => {
    const dir = new URL("../src/config/", import.meta.url);
    for (const name of await readdir(dir)) {
      const text = await readFile(new URL(name, dir), "utf8");
      const nodeImports = /from "node:|import\("node:/.test(text);
      if (nodeImports) expect(name, "imports node: modules").toMatch(/^node-/);
    }
  });
});

describe("run-time validation", () => {
  it("imports no Ajv and builds no code (no new Function, no eval): configs open under a strict CSP", async () => {
    for (const name of ["validate.ts", "schema-check.ts"]) {
      const text = await readFile(new URL(`../src/config/${name}`, import.meta.url), "utf8");
      expect(text, name).not.toMatch(/^import (?!type )[^;]*from "ajv/m);
      expect(text, name).not.toMatch(/new Function|\beval\(/);
    }
  });
});
