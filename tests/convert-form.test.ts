// convert keeps each array's config form: from a compact config (factory + index boxes) it writes a
// compact config naming exactly the index stores that exist (the declared ones and any found beside
// them), from an expanded one an expanded config, and `form` overrides both. Whatever the form, the
// converted composition opens to the source's index stores and the source's bytes.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConvertForm, convertComposition } from "../src/cli/convert.js";
import {
  arrayShardDirectoryStore,
  DirectoryStore,
  openShardedStore,
  ShardedStore,
  saveShardedStore,
} from "../src/node.js";
import { v2Array } from "./helpers/metadata.js";
import { storeContents } from "./helpers/store-contents.js";

const GRID = [3, 4] as const;
const TUPLES = Array.from({ length: GRID[0] * GRID[1] }, (_, i) => [Math.floor(i / GRID[1]), i % GRID[1]]);
let work: string;
let runs = 0;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "convert-form-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const json = (o: unknown) => `${JSON.stringify(o)}\n`;

/** One index store of `a` at `dir/a/i/j.zarr` with one chunk whose bytes name it. */
async function indexStore(dir: string, [i, j]: number[]): Promise<void> {
  const s = path.join(dir, `a/${i}/${j}.zarr`);
  await mkdir(s, { recursive: true });
  await writeFile(path.join(s, ".zarray"), v2Array([4], [4], "."));
  await writeFile(path.join(s, "0"), Uint8Array.from([i!, j!, 7, 9]));
}

/**
 * A source composition whose config (in `form`) declares the index stores `declared`; `extra` are
 * written beside them afterwards (found by the factory's listing, named by no config).
 */
async function build(
  dir: string,
  declared: number[][],
  extra: number[][],
  form: ConvertForm,
): Promise<string> {
  await mkdir(path.join(dir, "base.zarr/a"), { recursive: true });
  await writeFile(path.join(dir, "base.zarr/.zgroup"), json({ zarr_format: 2 }));
  await writeFile(path.join(dir, "base.zarr/a/.zarray"), v2Array([GRID[0], GRID[1], 4], [1, 1, 4], "."));
  for (const t of declared) await indexStore(dir, t);
  const store = new ShardedStore(new DirectoryStore(path.join(dir, "base.zarr")), {
    arrayShards: { a: { dims: 2, factory: arrayShardDirectoryStore(path.join(dir, "a")) } },
  });
  const config = path.join(dir, "composition.json");
  await saveShardedStore(store, config, { form });
  await store.close();
  for (const t of extra) await indexStore(dir, t);
  return config;
}

async function indexIds(store: ShardedStore): Promise<string[]> {
  const ids: string[] = [];
  for (const v of await store.shardsOnDemand()) if (v.kind === "array") ids.push(v.index!.join(","));
  return ids.sort();
}

interface Kwargs {
  array_shards: { a: Record<string, unknown> };
  array_shard_indices?: { a: unknown[] };
}

describe("convert keeps each array's config form", () => {
  it("compact in, compact out (expanded in, expanded out; --form overrides), same index stores and bytes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(TUPLES, { minLength: 1 }),
        fc.subarray(TUPLES, { maxLength: 2 }),
        fc.constantFrom<ConvertForm>("compact", "expanded"),
        fc.constantFrom<ConvertForm | undefined>(undefined, "compact", "expanded"),
        fc.constantFrom("zip" as const, "dir" as const),
        async (declared, more, sourceForm, form, to) => {
          const ids = (ts: number[][]) => ts.map((t) => t.join(","));
          const extra = more.filter((t) => !ids(declared).includes(t.join(",")));
          const dir = path.join(work, `run-${runs++}`);
          const config = await build(path.join(dir, "src"), declared, extra, sourceForm);
          const src = await openShardedStore(config);
          const r = await convertComposition(src, to, path.join(dir, "out"), {
            progress: false,
            concurrency: 3,
            ...(form ? { form } : {}),
          });
          await r.result.close();
          const written = JSON.parse(await readFile(r.config, "utf8")).config.kwargs as Kwargs;
          const compact = (form ?? sourceForm) === "compact";
          const all = ids([...declared, ...extra]).sort();
          if (compact) {
            expect(written.array_shards.a).toEqual({});
            expect(written.array_shard_indices?.a.length).toBeGreaterThan(0);
          } else {
            expect(
              Object.keys(written.array_shards.a)
                .map((k) => k.replace(".", ","))
                .sort(),
            ).toEqual(all);
            expect(written.array_shard_indices).toBeUndefined();
          }
          const result = await openShardedStore(r.config);
          expect(await indexIds(result)).toEqual(all);
          expect(await storeContents(result)).toEqual(await storeContents(src));
          await result.close();
          await src.close();
          await rm(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: 24 },
    );
  }, 240_000);

  it("a compact source's boxes survive the conversion unchanged when nothing else exists", async () => {
    const dir = path.join(work, "boxes");
    const config = await build(path.join(dir, "src"), TUPLES, [], "compact");
    const before = JSON.parse(await readFile(config, "utf8")).config.kwargs as Kwargs;
    const src = await openShardedStore(config);
    const r = await convertComposition(src, "zip", path.join(dir, "out"), { progress: false });
    await r.result.close();
    await src.close();
    const after = JSON.parse(await readFile(r.config, "utf8")).config.kwargs as Kwargs;
    expect(before.array_shard_indices?.a).toEqual([
      [
        [0, GRID[0]],
        [0, GRID[1]],
      ],
    ]);
    expect(after.array_shard_indices?.a).toEqual(before.array_shard_indices?.a);
    // Converted again from the converted (compact) config, back to directories: still compact.
    const zipped = await openShardedStore(r.config);
    const back = await convertComposition(zipped, "dir", path.join(dir, "back"), { progress: false });
    await back.result.close();
    await zipped.close();
    const again = JSON.parse(await readFile(back.config, "utf8")).config.kwargs as Kwargs;
    expect(again.array_shard_indices?.a).toEqual(before.array_shard_indices?.a);
  });
});
