import { readdir, stat } from "node:fs/promises";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type PackedInstall, packedInstall } from "../helpers/packed-install.js";

let pkg: PackedInstall;
beforeAll(async () => {
  pkg = await packedInstall();
}, 300_000);

/** Bytes of every file under `dir` (apparent size). */
async function bytesUnder(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return n;
}

describe("installing shardedstore with zarrita", () => {
  it("does not install the AWS SDK (an optional peer) and stays under 10 MB", async () => {
    const modules = path.join(pkg.dir, "node_modules");
    const scoped = await readdir(modules).catch(() => []);
    expect(scoped).not.toContain("@aws-sdk");
    expect(scoped).not.toContain("@smithy");
    expect(await bytesUnder(modules)).toBeLessThan(10 * 1024 * 1024);
  });

  it("S3Store without the SDK fails with an error that names the package to install", async () => {
    const script = `
      import { S3Store, ZipStore } from "shardedstore";
      const s = new S3Store({ bucket: "b", region: "us-east-1" });
      const e = await s.get("/k").catch((e) => e);
      const z = await new ZipStore({ store: s, key: "/a.zip" }).get("/k").catch((e) => e);
      console.log(JSON.stringify([e.name, e.message, z.name, z.message]));
    `;
    const r = await pkg.node(["--input-type=module", "-e", script]);
    expect(r.code).toBe(0);
    const [name, message, zname, zmessage] = JSON.parse(r.stdout) as string[];
    expect(name).toBe("StoreError");
    expect(message).toBe(
      'S3Store(s3://b): get "/k" failed: S3Store needs the AWS SDK, an optional peer dependency of shardedstore: run `npm install @aws-sdk/client-s3`',
    );
    expect(zname).toBe("StoreError");
    expect(zmessage).toMatch(
      /^ZipStore\(S3Store\(s3:\/\/b\)\/a\.zip\): get "\/k" failed: .*npm install @aws-sdk\/client-s3/,
    );
  });
});
