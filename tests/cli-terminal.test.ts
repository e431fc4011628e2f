import { spawn } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PackedInstall, packedInstall } from "./helpers/packed-install.js";

// A real terminal: util-linux `script` gives the CLI a pty; Ctrl-C is the byte 0x03 typed into it,
// which the pty's line discipline turns into SIGINT for the foreground process.
let pkg: PackedInstall;
let work: string;
beforeAll(async () => {
  pkg = await packedInstall();
  work = await pkg.workDir("terminal");
  await mkdir(path.join(work, "big.zarr"), { recursive: true });
  await writeFile(
    path.join(work, "big.zarr", "zarr.json"),
    '{"zarr_format":3,"node_type":"group","attributes":{}}',
  );
  // Enough keys that comparing them takes seconds, so the bar is drawn before Ctrl-C.
  for (let d = 0; d < 150; d++) {
    const dir = path.join(work, "big.zarr", "x", "c", String(d));
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => writeFile(path.join(dir, String(i)), `v${d}.${i}`)),
    );
  }
}, 300_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function underScript(command: string): Promise<{ code: number | null; out: string; sawBar: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qfec", command, "/dev/null"], {
      cwd: work,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let sent = false;
    let sawBar = false;
    const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("latin1");
      if (!sent && out.includes("comparing keys [")) {
        sawBar = true;
        sent = true;
        child.stdin.write("\x03");
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, out, sawBar });
    });
  });
}

describe("the terminal after Ctrl-C", () => {
  it("Ctrl-C during a progress bar shows the cursor again, turns line wrap back on and exits 130", async () => {
    const bin = path.join(pkg.dir, "node_modules/.bin/shardedstore");
    const r = await underScript(`${bin} verify big.zarr big.zarr --concurrency 1`);
    expect(r.sawBar, "the bar was drawn").toBe(true);
    const hidden = r.out.lastIndexOf("\x1b[?25l");
    expect(hidden, "the bar hid the cursor").toBeGreaterThanOrEqual(0);
    const after = r.out.slice(hidden);
    expect(after, "cursor shown after it was hidden").toContain("\x1b[?25h");
    expect(after, "line wrap back on").toContain("\x1b[?7h");
    expect(r.code).toBe(130);
  }, 180_000);
});
