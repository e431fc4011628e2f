// `convert … --out s3://bucket/prefix` (whole, or one part of a split run).
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { eachLimit } from "../each-limit.js";
import type { ShardedStore, Store } from "../node.js";
import { copyStore, ZipStore } from "../node.js";
import { type PartReport, structureOf } from "./convert-part.js";
import { relPathFor } from "./layout.js";
import { warn } from "./output.js";
import { type Part, type PartManifest, type PartStore, partOf, storeId } from "./parts.js";
import type { ProgressBar } from "./progress.js";
import { saveS3Config } from "./s3-config.js";
import type { S3Output } from "./s3-out.js";

/**
 * What {@link convertToS3} did: the counts of a part's report, and the config it wrote (whole runs).
 *
 * @example
 * ```ts
 * const r: S3ConversionReport = { part: 1, of: 1, stores: 3, converted: 3, skipped: 0, bytes: 10, alreadyComplete: false, config: "s3://b/out/composition.json", keys: 12 };
 * ```
 */
export interface S3ConversionReport extends PartReport {
  /** `s3://…/composition.json`, written by a whole run (a part writes its manifest instead). */
  config?: string;
  /** Keys copied by this run (stores skipped as complete not counted). */
  keys: number;
}

/** A shard's zip built in a temporary file, uploaded with one PutObject (multipart when large). */
async function uploadZip(
  out: S3Output,
  rel: string,
  from: Store,
  tmp: string,
  onBytes: (n: number) => void,
): Promise<{ keys: number; size: number }> {
  const file = path.join(tmp, rel);
  await mkdir(path.dirname(file), { recursive: true });
  const zip = new ZipStore(file, { mode: "w" });
  let keys: number;
  try {
    keys = (await copyStore(from, zip, { onBytes })).keys;
  } catch (e) {
    await zip.discard();
    throw e;
  }
  await zip.close();
  try {
    return { keys, size: await out.uploadFile(rel, file) };
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * Converts the stores of `sharded` (those of `part`, when given) into `out`: `dir` copies each store
 * below its own prefix (`data.zarr/`, `data/people.zarr/`, `data/ARRAY/i/j.zarr/`), `zip` makes each
 * one zip object (built in a temporary file, then uploaded). Each store is marked complete after its
 * last object (see {@link S3Output.markDone}); a rerun skips the stores marked complete. A whole run
 * then writes `composition.json`; a part writes its manifest (`finalize` writes the config).
 *
 * @example
 * ```ts
 * await convertToS3(sharded, "/a/composition.json", "zip", out, { concurrency: 4, bar: progress });
 * ```
 */
export async function convertToS3(
  sharded: ShardedStore,
  source: string,
  to: "zip" | "dir",
  out: S3Output,
  opts: { concurrency: number; part?: Part; bar: ProgressBar; form?: "compact" | "expanded" },
): Promise<S3ConversionReport> {
  const part = opts.part ?? { k: 1, n: 1 };
  const split = opts.part !== undefined;
  await out.check({ empty: false });
  const places = out.parts();
  const manifest: Omit<PartManifest, "complete" | "stores"> = {
    command: "convert",
    source,
    type: to,
    part: part.k,
    of: part.n,
    ...structureOf(sharded),
  };
  if (split) {
    const done = await places.read(part);
    if (done?.complete) {
      const n = done.stores.length;
      return {
        part: part.k,
        of: part.n,
        stores: n,
        converted: 0,
        skipped: n,
        bytes: 0,
        alreadyComplete: true,
        keys: 0,
      };
    }
    await places.write({ ...manifest, complete: false, stores: [] });
  }
  const zip = to === "zip";
  const entries = [...(await sharded.shardsOnDemand())].filter(
    (e) => !split || partOf(storeId(e.kind, e.mount, e.index), part.n) === part.k,
  );
  const found = await out.survey();
  const tmp = zip ? await mkdtemp(path.join(tmpdir(), "shardedstore-s3-zip-")) : "";
  let skipped = 0;
  let bytes = 0;
  let keys = 0;
  const stores: PartStore[] = [];
  const onBytes = (n: number) => {
    bytes += n;
  };
  opts.bar.start(entries.length);
  try {
    await eachLimit(entries, opts.concurrency, async (e) => {
      const rel = relPathFor(e.mount, e.index, zip);
      if (found.complete(rel, zip)) {
        skipped++;
      } else if (zip) {
        const r = await e.use((store) => uploadZip(out, rel, store, tmp, onBytes));
        keys += r.keys;
        await out.markDone(rel, { size: r.size, keys: r.keys });
      } else {
        const r = await e.use((store) => out.copyInto(rel, store, { clean: found.occupied(rel), onBytes }));
        keys += r.keys;
        await out.markDone(rel, { keys: r.keys });
      }
      stores.push({ kind: e.kind, mount: e.mount, ...(e.index ? { index: [...e.index] } : {}), path: rel });
      opts.bar.increment();
    });
  } catch (e) {
    throw out.explain(e);
  } finally {
    opts.bar.stop();
    if (tmp !== "") await rm(tmp, { recursive: true, force: true });
  }
  stores.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const report: S3ConversionReport = {
    part: part.k,
    of: part.n,
    stores: entries.length,
    converted: entries.length - skipped,
    skipped,
    bytes,
    alreadyComplete: false,
    keys,
  };
  if (split) {
    await places.write({ ...manifest, complete: true, stores });
    return report;
  }
  // Arrays the source declared by index boxes stay compact (structureOf notes them in the manifest).
  await saveS3Config(out, to, manifest, stores, {
    onWarning: warn,
    ...(opts.form ? { form: opts.form } : {}),
  });
  return { ...report, config: out.where("composition.json") };
}
