import * as path from "node:path";
import type { Command } from "commander";
import type { ShardedStore } from "../node.js";
import { withCommonOptions } from "./common.js";
import {
  bulkReads,
  hierarchyKeys,
  inventory,
  listAll,
  type NodeInfo,
  readHierarchy,
  type StoreInventory,
  sizeOf,
} from "./hierarchy.js";
import {
  openSource,
  type Source,
  sourceOptions,
  storeLocation,
  storeType,
  withSourceOptions,
} from "./open.js";
import { formatBytes, plural, printJson, printLines, table } from "./output.js";
import { type CommonOptions, progressBar } from "./progress.js";
import { renderTree } from "./tree.js";

/** Where a node's metadata lives in a composition, and how its array is sharded. */
function placement(
  sharded: ShardedStore | null,
  node: NodeInfo,
  stores: readonly StoreInventory[],
): { store?: string; sharding?: { dims: number[]; stores: number } } {
  if (sharded === null) return {};
  const r = sharded.resolve(node.metaKey);
  const spec = sharded.arrayMounts.get(node.path.slice(1));
  const sharding = spec
    ? {
        dims: Array.from({ length: spec.dims }, (_, i) => i),
        stores: stores.filter((s) => s.kind === "array" && s.mount === spec.path).length,
      }
    : undefined;
  return { store: r.mount === "" ? "base" : r.mount, ...(sharding ? { sharding } : {}) };
}

function dims(v: readonly number[] | undefined): string {
  return v === undefined ? "?" : v.length === 0 ? "()" : v.join("×");
}

function indexLabel(s: { index?: readonly number[] | null }): string {
  return s.index ? `[${s.index.join(", ")}]` : "";
}

async function storesOf(src: Source, opts: CommonOptions): Promise<StoreInventory[]> {
  const bar = progressBar(opts, "measuring stores");
  try {
    if (src.kind === "config") {
      return await inventory(src.sharded, {
        total: (n) => bar.start(n),
        onStore: () => bar.increment(),
      });
    }
    const keys = await listAll(src.store);
    bar.start(keys.length);
    let bytes = 0;
    for (const k of keys) {
      bytes += await sizeOf(src.store, k);
      bar.increment();
    }
    return [{ kind: "base", mount: "", store: src.store, keys: keys.length, bytes }];
  } finally {
    bar.stop();
  }
}

/** Stores listed one per line before the table is summarised (`--all` lists every one). */
const SHOWN_STORES = 20;
/** Rows of a summarised table shown as examples. */
const SAMPLE_STORES = 5;

interface StoreRow {
  kind: string;
  mount: string;
  index: number[] | null;
  type: string;
  location: string;
  keys: number;
  bytes: number;
}

function mountLabel(mount: string): string {
  return mount === "" ? "(base)" : mount;
}

function rowsTable(rows: readonly StoreRow[]): string[] {
  const cells = [["mount", "index", "type", "location", "keys", "bytes"]];
  for (const s of rows) {
    cells.push([
      mountLabel(s.mount),
      indexLabel(s),
      s.type,
      s.location,
      String(s.keys),
      formatBytes(s.bytes),
    ]);
  }
  return table(cells, [false, false, false, false, true, true]).map((l) => `  ${l}`);
}

/**
 * The "Stores" section: every store when there are few (or `all`), else one line per kind and mount
 * with counts and totals, then the first few stores.
 */
function storeTable(rows: readonly StoreRow[], all: boolean): string[] {
  if (all || rows.length <= SHOWN_STORES) return ["", "Stores", ...rowsTable(rows)];
  const groups = new Map<
    string,
    { kind: string; mount: string; types: Set<string>; n: number; keys: number; bytes: number }
  >();
  for (const r of rows) {
    const id = `${r.kind}\0${r.mount}`;
    let g = groups.get(id);
    if (g === undefined) {
      g = { kind: r.kind, mount: r.mount, types: new Set(), n: 0, keys: 0, bytes: 0 };
      groups.set(id, g);
    }
    g.types.add(r.type);
    g.n++;
    g.keys += r.keys;
    g.bytes += r.bytes;
  }
  const cells = [["mount", "kind", "type", "stores", "keys", "bytes"]];
  for (const g of groups.values()) {
    cells.push([
      mountLabel(g.mount),
      g.kind,
      [...g.types].join(","),
      String(g.n),
      String(g.keys),
      formatBytes(g.bytes),
    ]);
  }
  return [
    "",
    `Stores by mount (${plural(rows.length, "store")}; --all lists every one)`,
    ...table(cells, [false, false, false, true, true, true]).map((l) => `  ${l}`),
    "",
    `First ${SAMPLE_STORES} stores`,
    ...rowsTable(rows.slice(0, SAMPLE_STORES)),
    `  … ${plural(rows.length - SAMPLE_STORES, "more store")}`,
  ];
}

/**
 * `shardedstore info CONFIG`: the composition's stores (type, location, keys, bytes) and its
 * hierarchy as a tree (arrays with shape, chunks, dtype, and which dimensions are sharded).
 *
 * @example
 * ```ts
 * registerInfo(program); // shardedstore info out/composition.json
 * ```
 */
export function registerInfo(program: Command): void {
  withCommonOptions(
    withSourceOptions(program.command("info"))
      .description("show a composition: its stores, and its hierarchy as a tree")
      .argument("<config>", "composition config (.json); a Zarr directory or zip also works")
      .option(
        "--all",
        `list every store (by default a composition of more than ${SHOWN_STORES} stores is summarised)`,
      ),
  ).action(async (config: string, opts: CommonOptions & { all?: boolean }) => {
    bulkReads();
    const src = await openSource(config, sourceOptions(opts));
    const sharded = src.kind === "config" ? src.sharded : null;
    const relTo = src.kind === "config" ? path.dirname(src.path) : undefined;
    const stores = await storesOf(src, opts);
    const nodes = await readHierarchy(src.store, sharded ? await hierarchyKeys(sharded) : undefined);
    const storeRows: StoreRow[] = stores.map((s) => ({
      kind: s.kind,
      mount: s.mount,
      index: s.index ? [...s.index] : null,
      type: storeType(s.store),
      location: storeLocation(s.store, relTo),
      keys: s.keys,
      bytes: s.bytes,
    }));
    const nodeRows = nodes.map((n) => ({
      path: n.path,
      kind: n.kind,
      zarr_format: n.format,
      ...(n.kind === "array" ? { shape: n.shape, chunks: n.chunks, dtype: n.dtype, codecs: n.codecs } : {}),
      ...placement(sharded, n, stores),
    }));
    const totals = {
      stores: stores.length,
      keys: stores.reduce((a, s) => a + s.keys, 0),
      bytes: stores.reduce((a, s) => a + s.bytes, 0),
    };
    if (opts.json) {
      await printJson({ source: src.path, kind: src.kind, totals, stores: storeRows, nodes: nodeRows });
      return;
    }
    const groups = stores.filter((s) => s.kind === "group").length;
    const arrays = stores.filter((s) => s.kind === "array").length;
    const lines: string[] = [];
    lines.push(
      src.kind === "config"
        ? `Composition ${config}: ${plural(stores.length, "store")} (1 base, ${plural(groups, "group shard")}, ${plural(arrays, "array-shard store")} for ${plural(sharded!.arrayMounts.size, "sharded array")}), ${plural(totals.keys, "key")}, ${formatBytes(totals.bytes)}`
        : `${src.kind === "zip" ? "Zip" : "Directory"} store ${config}: ${plural(totals.keys, "key")}, ${formatBytes(totals.bytes)}`,
    );
    if (src.kind === "config") lines.push(...storeTable(storeRows, opts.all === true));
    lines.push("", "Hierarchy");
    const items = nodeRows.map((n) => {
      const parts: string[] = [`${n.kind} v${n.zarr_format}`];
      if (n.kind === "array") {
        parts.push(`${n.dtype}`, `shape ${dims(n.shape)}`, `chunks ${dims(n.chunks)}`);
        if (n.codecs && n.codecs.length > 0) parts.push(`codecs ${n.codecs.join(",")}`);
      }
      if (n.sharding) {
        parts.push(
          `sharded on dim${n.sharding.dims.length > 1 ? "s" : ""} ${n.sharding.dims.join(",")} → ${plural(n.sharding.stores, "store")}`,
        );
      }
      if (n.store !== undefined && n.store !== "base") parts.push(`in shard ${n.store}`);
      return { path: n.path, text: parts.join("  ") };
    });
    lines.push(...renderTree(items).map((l) => `  ${l}`));
    await printLines(lines);
  });
}
