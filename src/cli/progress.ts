import { SingleBar } from "cli-progress";
import { formatBytes } from "./output.js";

/**
 * Options every command takes: `--json` (machine output, no bars) and `--no-progress`.
 *
 * @example
 * ```ts
 * const common: CommonOptions = { json: false, progress: true };
 * ```
 */
export interface CommonOptions {
  json?: boolean;
  progress?: boolean;
}

/**
 * A progress bar on stderr that only appears when the work takes more than a moment and both
 * stdout and stderr are terminals (never in pipes, files, `--json` or `--no-progress`). Ctrl-C while
 * a bar is drawn stops it, shows the cursor, turns line wrap back on and exits with 130.
 *
 * @example
 * ```ts
 * const bar = progressBar(opts, "copying", { bytes: true });
 * bar.start(total);
 * bar.increment(n);
 * bar.stop();
 * ```
 */
export interface ProgressBar {
  start(total: number): void;
  setTotal(total: number): void;
  increment(n?: number): void;
  stop(): void;
}

const DELAY_MS = 250;

/** Bars on screen now; Ctrl-C stops them and gives the terminal back before exiting. */
const visible = new Set<SingleBar>();
// Cursor shown, line wrap on: what a bar turns off while it draws.
const RESTORE_TERMINAL = "\x1b[?25h\x1b[?7h";

function onInterrupt(): void {
  for (const b of visible) {
    try {
      b.stop();
    } catch {
      // the terminal is restored below anyway
    }
  }
  visible.clear();
  process.stderr.write(`${RESTORE_TERMINAL}\n`);
  // 128 + SIGINT, as a shell reports a command ended by Ctrl-C.
  process.exit(130);
}

function track(bar: SingleBar): void {
  if (visible.size === 0) process.on("SIGINT", onInterrupt);
  visible.add(bar);
}

function untrack(bar: SingleBar): void {
  visible.delete(bar);
  if (visible.size === 0) process.off("SIGINT", onInterrupt);
}

/** Whether bars may be drawn for these options in this process. */
export function progressEnabled(opts: CommonOptions): boolean {
  if (opts.json || opts.progress === false) return false;
  return Boolean(process.stdout.isTTY && process.stderr.isTTY);
}

/**
 * A bar labelled `label`; `bytes` formats the counts as sizes.
 *
 * @example
 * ```ts
 * const bar = progressBar({}, "converting shards");
 * ```
 */
export function progressBar(opts: CommonOptions, label: string, { bytes = false } = {}): ProgressBar {
  const enabled = progressEnabled(opts);
  let bar: SingleBar | null = null;
  let total = 0;
  let value = 0;
  let started = 0;
  const show = (v: number) => (bytes ? formatBytes(v) : String(v));
  const payload = () => ({ shown: show(value), shownTotal: show(total) });
  const maybeShow = () => {
    if (!enabled || bar !== null || started === 0 || Date.now() - started < DELAY_MS) return;
    bar = new SingleBar({
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {shown}/{shownTotal} | {duration_formatted}`,
      barsize: 30,
      barCompleteChar: "█",
      barIncompleteChar: "░",
      hideCursor: true,
      clearOnComplete: true,
      noTTYOutput: false,
      etaBuffer: 50,
    });
    track(bar);
    bar.start(total, value, payload());
  };
  const timer = () => setTimeout(maybeShow, DELAY_MS + 5).unref();
  return {
    start(t) {
      total = t;
      value = 0;
      started = Date.now();
      if (enabled) timer();
    },
    setTotal(t) {
      total = t;
      bar?.setTotal(t);
      bar?.update(value, payload());
    },
    increment(n = 1) {
      value += n;
      maybeShow();
      bar?.update(value, payload());
    },
    stop() {
      started = 0;
      if (bar !== null) {
        bar.update(value, payload());
        bar.stop();
        untrack(bar);
        bar = null;
      }
    },
  };
}
