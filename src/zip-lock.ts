// One writer per archive: a lock directory next to the archive (`<archive>.lock`), taken with
// proper-lockfile (mkdir is atomic on local and network filesystems; the lock's mtime is refreshed
// while held, so one left by a killed process goes stale and is taken over).
import lockfile from "proper-lockfile";

/** How long a lock whose holder stopped refreshing it blocks others (a SIGKILLed writer's lock). */
export const DEFAULT_LOCK_STALE_MS = 15_000;

/**
 * A held archive lock.
 *
 * @example
 * ```ts
 * const lock = await lockArchive("/data/a.zip");
 * try {
 *   // write the archive
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export interface ArchiveLock {
  /** The lock directory. */
  readonly path: string;
  /** Set when another process took the lock over as stale while we held it (we stalled too long). */
  readonly lost: Error | null;
  release(): Promise<void>;
}

/**
 * Takes the write lock of `file`, or fails at once with an error naming the archive and the lock.
 *
 * @example
 * ```ts
 * const lock = await lockArchive("/data/a.zip", 15_000);
 * ```
 */
export async function lockArchive(
  file: string,
  staleMs: number = DEFAULT_LOCK_STALE_MS,
): Promise<ArchiveLock> {
  const lockPath = `${file}.lock`;
  const state: { lost: Error | null } = { lost: null };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, {
      lockfilePath: lockPath,
      realpath: false, // the archive may not exist yet
      stale: staleMs,
      update: Math.max(1000, Math.floor(staleMs / 3)),
      retries: 0,
      onCompromised: (err) => {
        state.lost = err;
      },
    });
  } catch (e) {
    if ((e as { code?: string }).code === "ELOCKED")
      throw new Error(
        `another writer has the archive open (lock ${lockPath}); one writer at a time — a lock left by a killed process expires after ${Math.round(staleMs / 1000)} s`,
      );
    throw new Error(`cannot take the write lock ${lockPath}: ${(e as Error).message ?? e}`);
  }
  let released = false;
  return {
    path: lockPath,
    get lost() {
      return state.lost;
    },
    release: async () => {
      if (released) return;
      released = true;
      if (state.lost === null) await release().catch(() => {});
    },
  };
}
