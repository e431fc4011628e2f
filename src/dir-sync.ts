// Group commit of directory syncs: one fsync of a folder makes every rename into it that finished
// before the fsync began durable, so concurrent writers share one instead of each paying for one.
import { closeSync, fsync, openSync } from "node:fs";

interface Round {
  /** The sync running now. */
  running: Promise<void>;
  /** The sync that starts when `running` ends: every request made meanwhile shares it. */
  next: Promise<void> | null;
}

/** Folders with a sync running, by path; an entry is removed when its last round ends. */
const rounds = new Map<string, Round>();

/** Only the sync waits in the thread pool: the open and close are direct (cheaper than a hand-off). */
async function fsyncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, "r");
  try {
    await new Promise<void>((resolve) => fsync(fd, () => resolve()));
    // an error is ignored: some filesystems cannot fsync a directory; the rename itself is atomic
  } finally {
    closeSync(fd);
  }
}

/**
 * Resolves once every rename into `dir` that finished before the call is durable (the folder's
 * entries are on disk). Calls made while a sync of `dir` runs share the one that starts after it
 * (a sync that began before a rename may not include it), so n concurrent callers cost about two
 * fsyncs, not n. Nothing is kept once no sync of `dir` is pending.
 *
 * @example
 * ```ts
 * await rename(tmp, file);
 * await syncDirectory(path.dirname(file)); // the rename survives a power cut from here on
 * ```
 */
export function syncDirectory(dir: string): Promise<void> {
  const round = rounds.get(dir);
  if (round === undefined) {
    const r: Round = { running: fsyncDirectory(dir), next: null };
    rounds.set(dir, r);
    return settle(dir, r, r.running);
  }
  round.next ??= round.running
    .then(
      () => undefined,
      () => undefined,
    )
    .then(() => {
      round.running = fsyncDirectory(dir);
      round.next = null;
      return settle(dir, round, round.running);
    });
  return round.next;
}

/** Removes the round of `dir` once `p` settles, unless another round was queued behind it. */
function settle(dir: string, r: Round, p: Promise<void>): Promise<void> {
  const end = () => {
    if (r.running === p && r.next === null && rounds.get(dir) === r) rounds.delete(dir);
  };
  p.then(end, end);
  return p;
}
