import type { Command } from "commander";
import type { AbsolutePath, Store } from "../node.js";
import { isShardedStoreError } from "../node.js";
import { withCommonOptions } from "./common.js";
import { UsageError } from "./errors.js";
import { listAll, parseJson } from "./hierarchy.js";
import { closeSource, type ListableStore, openSource, sourceOptions, withSourceOptions } from "./open.js";
import { plural, printJson, printLines } from "./output.js";
import type { CommonOptions } from "./progress.js";

type JsonObject = Record<string, unknown>;

const V2_NAMES = new Set([".zarray", ".zgroup", ".zattrs"]);
const encoder = new TextEncoder();

function nameOf(key: string): string {
  return key.slice(key.lastIndexOf("/") + 1);
}

async function readDoc(store: Store, key: AbsolutePath): Promise<JsonObject | undefined> {
  const bytes = await store.get(key);
  if (bytes === undefined) return undefined;
  const doc = parseJson(bytes);
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new UsageError(`${key} is not a JSON object, so the metadata cannot be consolidated`);
  }
  return doc as JsonObject;
}

/**
 * zarr-python 2's `.zmetadata`: every `.zgroup`, `.zarray` and `.zattrs` of the hierarchy, by key
 * without the leading `/`.
 *
 * @example
 * ```ts
 * const doc = await consolidatedV2(store, keys); // { metadata: { ".zgroup": {…}, "a/.zarray": {…} }, zarr_consolidated_format: 1 }
 * ```
 */
export async function consolidatedV2(
  store: Store,
  keys: readonly AbsolutePath[],
): Promise<{ doc: JsonObject; nodes: number }> {
  const metadata: JsonObject = {};
  let nodes = 0;
  for (const key of keys) {
    if (!V2_NAMES.has(nameOf(key))) continue;
    const doc = await readDoc(store, key);
    if (doc === undefined) continue;
    metadata[key.slice(1)] = doc;
    if (nameOf(key) !== ".zattrs") nodes++;
  }
  return { doc: { metadata, zarr_consolidated_format: 1 }, nodes };
}

function fold(s: string): string {
  return s.normalize("NFKC").toLowerCase();
}

/**
 * The root `zarr.json` with zarr-python 3's inline consolidated metadata: every node below the
 * root by its path (flat, sorted by depth then name), child groups carrying an empty
 * `consolidated_metadata` as zarr-python writes them.
 *
 * @example
 * ```ts
 * const { doc } = await consolidatedV3(store, keys); // doc.consolidated_metadata.metadata["simulation/fine/foo"]
 * ```
 */
export async function consolidatedV3(
  store: Store,
  keys: readonly AbsolutePath[],
): Promise<{ doc: JsonObject; nodes: number }> {
  const root = await readDoc(store, "/zarr.json");
  if (root === undefined || root.node_type !== "group") {
    throw new UsageError("the root is not a Zarr v3 group (no group zarr.json at the top)");
  }
  const entries: [string, JsonObject][] = [];
  for (const key of keys) {
    if (key === "/zarr.json" || nameOf(key) !== "zarr.json") continue;
    const doc = await readDoc(store, key);
    if (doc === undefined || doc.zarr_format !== 3) continue;
    const p = key.slice(1, -"/zarr.json".length);
    if (doc.node_type === "group") {
      const { consolidated_metadata: _drop, node_type: _n, ...rest } = doc;
      entries.push([
        p,
        {
          ...rest,
          consolidated_metadata: { kind: "inline", must_understand: false, metadata: {} },
          node_type: "group",
        },
      ]);
    } else {
      entries.push([p, doc]);
    }
  }
  entries.sort(([a], [b]) => {
    const da = a.split("/").length - b.split("/").length;
    if (da !== 0) return da;
    const fa = fold(a);
    const fb = fold(b);
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  });
  const { consolidated_metadata: _old, node_type: _n, attributes, zarr_format: _f, ...rootRest } = root;
  // Member order as zarr-python writes a group: attributes, zarr_format, consolidated_metadata, node_type.
  const doc: JsonObject = {
    attributes: attributes ?? {},
    zarr_format: 3,
    consolidated_metadata: { kind: "inline", must_understand: false, metadata: Object.fromEntries(entries) },
    node_type: "group",
    ...rootRest,
  };
  return { doc, nodes: entries.length + 1 };
}

/**
 * `shardedstore consolidate CONFIG`: writes consolidated metadata so readers open the whole
 * hierarchy with one request: v2 `.zmetadata`, and for v3 the root `zarr.json`'s
 * `consolidated_metadata` as zarr-python writes it (zarrita's `withConsolidatedMetadata` reads both).
 *
 * @example
 * ```ts
 * registerConsolidate(program); // shardedstore consolidate out/composition.json
 * ```
 */
export function registerConsolidate(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("consolidate"))
      .description(
        "write consolidated metadata (v2 .zmetadata; v3 in the root zarr.json, as zarr-python does)",
      )
      .argument("<config>", "composition config (.json); a Zarr directory or zip also works"),
  ).action(async (configPath: string, opts: CommonOptions) => {
    const src = await openSource(configPath, { ...sourceOptions(opts), writable: true });
    const store: ListableStore = src.store;
    const written: { format: 2 | 3; key: string; nodes: number }[] = [];
    try {
      const keys = await listAll(store);
      if (keys.includes("/zarr.json")) {
        const { doc, nodes } = await consolidatedV3(store, keys);
        await store.set!("/zarr.json", encoder.encode(JSON.stringify(doc, null, 2)));
        written.push({ format: 3, key: "/zarr.json", nodes });
      }
      if (keys.includes("/.zgroup")) {
        const { doc, nodes } = await consolidatedV2(store, keys);
        await store.set!("/.zmetadata", encoder.encode(JSON.stringify(doc, null, 4)));
        written.push({ format: 2, key: "/.zmetadata", nodes });
      }
      if (written.length === 0) {
        throw new UsageError(
          `${configPath} has no group at its root (zarr.json or .zgroup), so there is nothing to consolidate`,
        );
      }
    } catch (e) {
      if (isShardedStoreError(e, "NotWritableError")) {
        throw new UsageError(
          `${configPath} cannot be written (${e.message}); consolidate the directory composition before converting it to zips, or merge it first`,
        );
      }
      throw e;
    } finally {
      await closeSource(src);
    }
    if (opts.json) {
      await printJson({ source: src.path, written });
      return;
    }
    await printLines(
      written.map(
        (w) =>
          `Consolidated ${plural(w.nodes, "node")} (Zarr v${w.format}) into ${w.key === "/zarr.json" ? "the root zarr.json (consolidated_metadata)" : ".zmetadata"}`,
      ),
    );
  });
}
