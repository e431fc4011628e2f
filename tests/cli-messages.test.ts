import { writeFile } from "node:fs/promises";
import * as path from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { cleanMessage, describeError, MAX_MESSAGE } from "../src/cli/errors.js";
import { type PackedInstall, packedInstall } from "./helpers/packed-install.js";

describe("CLI error messages", () => {
  it("turn Node's system-error text into words and a path", () => {
    expect(
      cleanMessage(`DirectoryStore(/d): get "/k" failed: ENOENT: no such file or directory, open '/d/k'`),
    ).toBe(`DirectoryStore(/d): get "/k" failed: no such file or directory (/d/k)`);
    expect(cleanMessage("EACCES: permission denied, rename '/a/t' -> '/a/k'")).toBe(
      "permission denied (/a/t -> /a/k)",
    );
  });

  it("never show ERR_ codes or a raw RangeError, and say the failure was unexpected", () => {
    const err = Object.assign(new RangeError('The value of "offset" is out of range. Received -1'), {
      code: "ERR_OUT_OF_RANGE",
    });
    const d = describeError(err);
    expect(d.code).toBe(1);
    expect(d.message).toBe('unexpected failure: The value of "offset" is out of range. Received -1');
    expect(
      cleanMessage("RangeError [ERR_BUFFER_OUT_OF_BOUNDS]: Attempt to access memory outside buffer bounds"),
    ).toBe("Attempt to access memory outside buffer bounds");
  });

  it("are printed whole with SHARDEDSTORE_DEBUG=1", () => {
    const long = `bad ${"y".repeat(5000)}`;
    const before = process.env.SHARDEDSTORE_DEBUG;
    process.env.SHARDEDSTORE_DEBUG = "1";
    try {
      expect(describeError(new Error(long)).message).toBe(long);
    } finally {
      if (before === undefined) delete process.env.SHARDEDSTORE_DEBUG;
      else process.env.SHARDEDSTORE_DEBUG = before;
    }
    expect(describeError(new Error(long)).message.length).toBeLessThan(MAX_MESSAGE + 100);
  });

  it("are one line of bounded length whatever the input, pointing to SHARDEDSTORE_DEBUG when cut", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20_000, unit: "binary" }), (raw) => {
        const m = cleanMessage(raw);
        expect(m).not.toMatch(/\n/);
        expect(m).not.toMatch(/\bERR_[A-Z]/);
        expect(m.length).toBeLessThanOrEqual(MAX_MESSAGE + 100);
        if (m.length > MAX_MESSAGE) expect(m).toMatch(/…\s\(\d+ more characters; SHARDEDSTORE_DEBUG=1/);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the CLI on input that makes huge messages", () => {
  let pkg: PackedInstall;
  let work: string;
  beforeAll(async () => {
    pkg = await packedInstall();
    work = await pkg.workDir("messages");
  }, 300_000);

  it("a config naming a 10 KB store type fails with one short line", async () => {
    const name = "X".repeat(10_000);
    const cfg = path.join(work, "huge.json");
    await writeFile(
      cfg,
      JSON.stringify({
        name: "ShardedStore",
        module: "shardedstore",
        config: { args: [{ name, module: "zarr.storage", config: { args: ["x"], kwargs: {} } }], kwargs: {} },
      }),
    );
    const r = await pkg.shardedstore(["info", cfg]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(MAX_MESSAGE + 120);
    expect(lines[0]).toMatch(
      /^error: .*XXXX.*… \(\d+ more characters; SHARDEDSTORE_DEBUG=1 prints the whole message\)$/,
    );
  });
});
