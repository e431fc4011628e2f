// The composition config of an S3 output: written as the local output's would be (relative
// locations), so openShardedStore("s3://…/composition.json") opens the stores next to it.
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Store } from "../node.js";
import { DirectoryStore, S3Store, saveShardedStore, ZipStore } from "../node.js";
import { compositionOf } from "./composition-of.js";
import { CheckFailed } from "./errors.js";
import { CONFIG_NAME } from "./layout.js";
import type { PartManifest, PartStore } from "./parts.js";
import type { S3Output } from "./s3-out.js";

/** Metadata documents from which a sharded array's layout is read. */
const LAYOUT_DOCS = ["zarr.json", ".zarray", ".zattrs"];

/** The base store as written to S3: a prefix of objects, or a zip object read by range. */
function writtenBase(out: S3Output, rel: string, zip: boolean): Store {
  if (!zip) return out.store(rel);
  const cut = rel.lastIndexOf("/");
  const folder = new S3Store({
    ...out.conn,
    bucket: out.bucket,
    prefix: cut === -1 ? out.prefix : `${out.prefix}/${rel.slice(0, cut)}`.replace(/^\//, ""),
  });
  return new ZipStore({ store: folder, key: `/${rel.slice(cut + 1)}` });
}

/**
 * Writes `s3://bucket/prefix/composition.json` for stores written below the prefix (`stores[].path`
 * relative to it). The config is made exactly as for a local output folder — from a local stand-in
 * of the composition whose base holds the sharded arrays' metadata documents read back from S3 — so
 * its locations are relative (`data.zarr`, `data/people.zarr.zip`, factories `data/ARRAY`) and hold
 * no endpoint, credentials or signature. One PutObject: the config appears whole, after every store.
 * Returns the warnings `saveShardedStore` gives (ways the Python original would misread it).
 *
 * @example
 * ```ts
 * await saveS3Config(out, "zip", { groups: [], arrays: {} }, [{ kind: "base", mount: "", path: "data.zarr.zip" }], {});
 * ```
 */
export async function saveS3Config(
  out: S3Output,
  type: "zip" | "dir",
  structure: Pick<PartManifest, "groups" | "arrays" | "indices">,
  stores: readonly PartStore[],
  options: { onWarning?: (w: string) => void; form?: "compact" | "expanded" },
): Promise<string[]> {
  const zip = type === "zip";
  const base = stores.find((s) => s.kind === "base");
  if (base === undefined) throw new CheckFailed(`${out.url}: no base store was written`);
  const tmp = await mkdtemp(path.join(tmpdir(), "shardedstore-s3-config-"));
  try {
    const skeletonPath = path.join(tmp, base.path);
    await mkdir(path.dirname(skeletonPath), { recursive: true });
    const skeleton: Store = zip
      ? new ZipStore(skeletonPath, { mode: "w" })
      : new DirectoryStore(skeletonPath);
    const written = writtenBase(out, base.path, zip);
    try {
      for (const p of Object.keys(structure.arrays)) {
        for (const doc of LAYOUT_DOCS) {
          const key = `/${p}/${doc}` as const;
          const value = await written.get(key);
          if (value !== undefined) await skeleton.set!(key, value);
        }
      }
    } finally {
      await skeleton.close?.();
      await written.close?.();
    }
    const local = stores.map((s) => ({ ...s, path: path.join(tmp, s.path) }));
    const standIn = compositionOf(tmp, type, structure, local, out.url);
    const file = path.join(tmp, CONFIG_NAME);
    const warnings = await saveShardedStore(standIn, file, options);
    await standIn.close();
    await out.root.set(out.key(CONFIG_NAME), await readFile(file));
    return warnings;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
