// Group commit of new files: the finished temporary files of many writers are made durable together
// (one filesystem sync, or an fsync each when few), then renamed into place, then their folders are
// synced once each. A conversion writes one small file per store; an fsync each (a journal commit
// each, ~8 ms here) would cost more than everything else it does (bench/convert-scale.mjs).
import { execFile } from "node:child_process";
import { closeSync, fsync, openSync, renameSync, rmSync, statSync } from "node:fs";
import * as path from "node:path";
import { syncDirectory } from "./dir-sync.js";
import { ShardedStoreError } from "./errors.js";

/**
 * From this many files in a round on, they are made durable by one sync of their filesystem
 * (`sync -f`: a process, 3–5 ms of the main thread to start); fewer get an fsync each, all at once.
 *
 * @example
 * ```ts
 * const files = Array.from({ length: SYNCFS_FROM }, (_, i) => `out/${i}.zarr.zip`); // one sync -f
 * ```
 */
export const SYNCFS_FROM = 32;

interface Request {
  tmp: string;
  file: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Whether `sync -f` (coreutils ≥ 8.24: syncfs(2) of the file's filesystem) can be used: checked
 * once, on first use (Linux only; a missing command or one without `-f` means an fsync per file).
 */
let syncfs: "unknown" | "yes" | "no" = process.platform === "linux" ? "unknown" : "no";

/** Found on PATH, as a shell would. */
const SYNC_COMMAND = "sync";

let pending: Request[] = [];
let scheduled = false;
let running = false;

const failure = (what: string, cause: unknown) =>
  new ShardedStoreError(
    "StoreError",
    `${what}: ${cause instanceof Error ? cause.message : String(cause)}`.slice(0, 800),
    { cause },
  );

/** `sync -f paths…`: resolves when every path's filesystem is synced; rejects on any failure. */
function syncFilesystems(paths: string[]): Promise<"done" | "unavailable"> {
  return new Promise((resolve, reject) => {
    // In the C locale: "invalid option" is how an old `sync` says it has no -f, in any language.
    const env = { ...process.env, LC_ALL: "C" };
    execFile(SYNC_COMMAND, ["-f", "--", ...paths], { timeout: 600_000, env }, (e, _out, err) => {
      if (e === null) {
        syncfs = "yes";
        resolve("done");
        return;
      }
      const code = (e as { code?: unknown }).code;
      // Checked once: no such command, or one without -f (an old coreutils, busybox builds).
      if (syncfs === "unknown" && (code === "ENOENT" || /invalid option|unrecognized option/i.test(err))) {
        syncfs = "no";
        resolve("unavailable");
        return;
      }
      const why = String(err).trim() || e.message;
      reject(failure(`syncing the filesystem of ${paths[0]} (${SYNC_COMMAND} -f) failed`, why));
    });
  });
}

/** fsync of one file by path (the bare callback form: no FileHandle left to close). */
function fsyncFile(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch (e) {
      reject(e);
      return;
    }
    fsync(fd, (e) => {
      closeSync(fd);
      if (e) reject(failure(`fsync of ${file} failed`, e));
      else resolve();
    });
  });
}

/** Makes the contents of every temporary file of `batch` durable. */
async function syncContents(batch: Request[]): Promise<void> {
  if (batch.length >= SYNCFS_FROM && syncfs !== "no") {
    // One path per filesystem: the folders of a batch are few, their stat is cheap.
    const byDevice = new Map<number, string>();
    for (const dir of new Set(batch.map((r) => path.dirname(r.tmp)))) {
      const dev = statSync(dir).dev;
      if (!byDevice.has(dev)) byDevice.set(dev, dir);
    }
    if ((await syncFilesystems([...byDevice.values()])) === "done") return;
  }
  await Promise.all(batch.map((r) => fsyncFile(r.tmp)));
}

/** One round: contents durable, then every rename, then each folder's sync; then the callers hear. */
async function round(batch: Request[]): Promise<void> {
  try {
    await syncContents(batch);
  } catch (e) {
    for (const r of batch) {
      rmSync(r.tmp, { force: true });
      r.reject(e);
    }
    return;
  }
  const dirs = new Set<string>();
  const failed = new Map<Request, unknown>();
  for (const r of batch) {
    try {
      renameSync(r.tmp, r.file);
      dirs.add(path.dirname(r.file));
    } catch (e) {
      failed.set(r, e);
      rmSync(r.tmp, { force: true });
    }
  }
  await Promise.all([...dirs].map((d) => syncDirectory(d)));
  for (const r of batch) {
    if (failed.has(r)) r.reject(failed.get(r));
    else r.resolve();
  }
}

function start(): void {
  scheduled = false;
  if (running || pending.length === 0) return;
  const batch = pending;
  pending = [];
  running = true;
  round(batch)
    .catch((e: unknown) => {
      // round settles every request itself; this is only a failure to clean up.
      for (const r of batch) r.reject(e);
    })
    .finally(() => {
      running = false;
      if (pending.length > 0) schedule();
    });
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // After the current I/O callbacks: every writer that finishes in this turn joins the round.
  setImmediate(start);
}

/**
 * Renames the complete temporary file `tmp` to `file` durably: resolves once `tmp`'s contents and
 * the rename survive a power cut, never renaming before the contents are on disk (so `file` never
 * names a partial file, even after a crash). Calls made while a round runs share the next round:
 * many files cost one filesystem sync (`sync -f`, syncfs(2), where there is one; an fsync each
 * otherwise or for a small round), a rename each, and one sync per folder. A failed sync rejects
 * every file of its round and removes their temporary files (nothing renamed); a failed rename
 * rejects that file only. `tmp` and `file` must be in the same folder.
 *
 * @example
 * ```ts
 * writeFileSync("out/.a.tmp", bytes);
 * await commitFile("out/.a.tmp", "out/a.zarr.zip"); // durable under its final name from here on
 * ```
 */
export function commitFile(tmp: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pending.push({ tmp, file, resolve, reject });
    if (!running) schedule();
  });
}
