/**
 * Bytes for people: `1.5 KiB`, `12 B`.
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/**
 * A duration for people: `12 ms`, `1.3 s`, `2 min 5 s`.
 *
 * @example
 * ```ts
 * formatDuration(1320); // "1.3 s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * Left-aligned columns (right-aligned where `right[i]`), two spaces apart, without trailing spaces.
 *
 * @example
 * ```ts
 * table([["a", "1"], ["bb", "22"]], [false, true]); // ["a    1", "bb  22"]
 * ```
 */
export function table(rows: readonly (readonly string[])[], right: readonly boolean[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return rows.map((row) =>
    row
      .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

/**
 * `n thing` / `n things`.
 *
 * @example
 * ```ts
 * plural(2, "store"); // "2 stores"
 * ```
 */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/**
 * Writes text or bytes to stdout and resolves once it is handed to the OS (so large outputs are
 * not cut off when the process ends).
 *
 * @example
 * ```ts
 * await writeOut("hello\n");
 * ```
 */
export function writeOut(data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Prints lines to stdout.
 *
 * @example
 * ```ts
 * await printLines(["a", "b"]);
 * ```
 */
export function printLines(lines: readonly string[]): Promise<void> {
  return writeOut(lines.length === 0 ? "" : `${lines.join("\n")}\n`);
}

/**
 * Prints a value as pretty JSON on stdout (the `--json` output of every command).
 *
 * @example
 * ```ts
 * await printJson({ ok: true });
 * ```
 */
export function printJson(value: unknown): Promise<void> {
  return writeOut(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Prints a warning line to stderr (e.g. how the Python original would misread a saved config).
 *
 * @example
 * ```ts
 * await saveShardedStore(store, "out/composition.json", { onWarning: warn });
 * ```
 */
export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}
