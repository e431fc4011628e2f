import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = path.join(ROOT, "dist/cli/main.js");
const CONFIG = fileURLToPath(new URL("./fixtures/python-seed/dot/config.json", import.meta.url));

/** Starts `shardedstore serve` (the built CLI) and waits for the URL it prints. */
async function startServe(
  args: string[],
): Promise<{ child: ChildProcess; url: string; out: () => string; err: () => string }> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [BIN, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { child, url, out: () => out, err: () => err };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("shardedstore serve (the CLI process)", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`prints the URL of the port it got (--port 0), serves, and stops cleanly on ${signal} with exit 0`, async () => {
      const s = await startServe([CONFIG, "--port", "0"]);
      expect(s.url).not.toMatch(/:0\/$/);
      const r = await fetch(`${s.url}simulation/fine/foo/.zarray`);
      expect(r.status).toBe(200);
      expect(((await r.json()) as { shape: number[] }).shape).toEqual([6, 3, 5]);
      const exited = exitOf(s.child);
      s.child.kill(signal);
      expect(await exited).toBe(0);
      expect(s.out()).toMatch(
        /^serving .*config\.json at http:\/\/127\.0\.0\.1:\d+\/ \(read-only; Ctrl-C stops\)\nstopped\n$/,
      );
      expect(s.err()).toBe("");
      await expect(fetch(s.url)).rejects.toThrow();
    });
  }

  it("refuses a bad port or a missing config with exit 2 and one line", async () => {
    for (const args of [[CONFIG, "--port", "70000"], [path.join(ROOT, "nope.json")]]) {
      const child = spawn(process.execPath, [BIN, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (d: Buffer) => {
        err += d;
      });
      expect(await exitOf(child), args.join(" ")).toBe(2);
      expect(err).toMatch(/^error: .*(port number|no such file or directory)/);
    }
  });
});
