import { open, stat } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type { AbsolutePath, RemoteAccess, S3StoreOptions, Store } from "../node.js";
import {
  DirectoryStore,
  FetchStore,
  isRemoteUrl,
  openShardedStore,
  S3Store,
  ShardedStore,
  ZipStore,
} from "../node.js";
import { UsageError } from "./errors.js";

/** A store with `list`, which every store the CLI opens has. */
export type ListableStore = Store & { list(prefix?: AbsolutePath): AsyncIterable<AbsolutePath> };

/**
 * A store the user named on the command line: a composition config (`.json`), a directory store
 * or a zip file.
 *
 * @example
 * ```ts
 * const src = await openSource("out/composition.json");
 * if (src.kind === "config") console.log((await src.sharded.shards()).length);
 * ```
 */
export type Source =
  | { kind: "config"; path: string; store: ShardedStore; sharded: ShardedStore }
  | { kind: "directory"; path: string; store: DirectoryStore & ListableStore }
  | { kind: "zip"; path: string; store: ZipStore & ListableStore }
  | { kind: "remote"; path: string; store: ListableStore };

/**
 * How a command may open what the user named: a config is confined to its folder (symbolic links
 * resolved) unless `allowOutside`, and follows URLs outside its folder only with `allowUrls`.
 *
 * @example
 * ```ts
 * const opts: SourceOptions = { allowOutside: false, allowUrls: true, s3Endpoint: "http://127.0.0.1:9000" };
 * ```
 */
export interface SourceOptions {
  /** Open zips for appending (consolidate). */
  writable?: boolean;
  /** Let a config name paths outside its folder (`--allow-outside`). */
  allowOutside?: boolean;
  /** Let a config name http(s)/s3 URLs outside its folder (`--allow-urls`). */
  allowUrls?: boolean;
  /** An S3-compatible endpoint for s3:// locations, path-style (`--s3-endpoint`). */
  s3Endpoint?: string;
}

/**
 * Adds the options of commands that open a source: `--allow-outside`, `--allow-urls`, `--s3-endpoint`.
 *
 * @example
 * ```ts
 * withSourceOptions(program.command("info"));
 * ```
 */
export function withSourceOptions(cmd: Command): Command {
  return cmd
    .option("--allow-outside", "let a config name paths outside its own folder (off: refused)")
    .option("--allow-urls", "let a config name http(s)/s3 URLs outside its own folder (off: refused)")
    .option("--s3-endpoint <url>", "S3-compatible endpoint for s3:// locations (path-style addressing)");
}

/**
 * The {@link SourceOptions} among a command's parsed options.
 *
 * @example
 * ```ts
 * const src = await openSource(config, sourceOptions(opts));
 * ```
 */
export function sourceOptions(opts: object): SourceOptions {
  const o = opts as SourceOptions;
  return {
    ...(o.allowOutside ? { allowOutside: true } : {}),
    ...(o.allowUrls ? { allowUrls: true } : {}),
    ...(typeof o.s3Endpoint === "string" ? { s3Endpoint: o.s3Endpoint } : {}),
  };
}

/**
 * The S3 client options of the CLI: an explicit endpoint is path-style (MinIO, s3rver, Ceph).
 *
 * @example
 * ```ts
 * s3Options({ s3Endpoint: "http://127.0.0.1:9000" }); // { endpoint, forcePathStyle: true, region }
 * ```
 */
export function s3Options(opts: SourceOptions): Omit<S3StoreOptions, "bucket" | "prefix"> {
  if (opts.s3Endpoint === undefined) return {};
  return { endpoint: opts.s3Endpoint, forcePathStyle: true, region: process.env.AWS_REGION ?? "us-east-1" };
}

/** A FetchStore the CLI can hand to listing code: listing says plainly why it cannot. */
class UnlistedFetchStore extends FetchStore {
  async *list(): AsyncIterable<AbsolutePath> {
    yield* [];
    throw new UsageError(
      `cannot list the keys of ${this.url}: plain HTTP has no listing (use a composition config of zips, a zip, or S3)`,
    );
  }
}

/** A store named by URL: a composition config (`.json`), a zip, or a directory-like store. */
async function openUrl(url: string, options: SourceOptions): Promise<Source> {
  const s3 = s3Options(options);
  const remote: RemoteAccess = { s3 };
  const { pathname } = new URL(url);
  if (pathname.endsWith(".json")) {
    const store = await openShardedStore(url, {
      confine: !options.allowOutside,
      allowUrls: options.allowUrls ?? false,
      remote,
    });
    return { kind: "config", path: url, store, sharded: store };
  }
  const s3Url = /^s3:/i.test(url);
  if (pathname.endsWith(".zip")) {
    if (s3Url)
      throw new UsageError(`${url}: reading zips from s3:// is not supported yet (give its https URL)`);
    const store = new ZipStore(url);
    await expectZarr(store, url);
    return { kind: "zip", path: url, store };
  }
  const store: ListableStore = s3Url
    ? new S3Store({
        ...s3,
        bucket: decodeURIComponent(new URL(url).host),
        prefix: decodeURIComponent(pathname),
      })
    : new UnlistedFetchStore(url);
  await expectZarr(store, url);
  return { kind: "remote", path: url, store };
}

async function expectZarr(store: Store, where: string): Promise<void> {
  if (!(await hasRootMetadata(store))) {
    throw new UsageError(`${where} is not a Zarr store (no zarr.json, .zgroup or .zarray in it)`);
  }
}

const ROOT_META: AbsolutePath[] = ["/zarr.json", "/.zgroup", "/.zarray"];

async function hasRootMetadata(store: Store): Promise<boolean> {
  for (const key of ROOT_META) if ((await store.get(key)) !== undefined) return true;
  return false;
}

async function isZipFile(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const head = new Uint8Array(4);
    await fh.read(head, 0, 4, 0);
    return head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5);
  } finally {
    await fh.close();
  }
}

/**
 * Opens what the user named: a `.json` file as a composition config (confined to its folder unless
 * `allowOutside`), a directory as a `DirectoryStore`, a zip file as a `ZipStore` (read-only unless
 * `writable`); or the same by URL: `http(s)://…/composition.json`, `s3://bucket/…/composition.json`,
 * a zip URL, or a store URL (a `FetchStore`, or an `S3Store` for `s3://`). Anything missing or
 * unrecognisable is a {@link UsageError} naming the path.
 *
 * @example
 * ```ts
 * const { store } = await openSource("data/single.zarr");
 * ```
 */
export async function openSource(p: string, options: SourceOptions = {}): Promise<Source> {
  if (isRemoteUrl(p)) return openUrl(p, options);
  if (/^file:/i.test(p)) p = fileURLToPath(p);
  const abs = path.resolve(p);
  const st = await stat(abs).catch(() => null);
  if (st === null) throw new UsageError(`no such file or directory: ${p}`);
  if (st.isDirectory()) {
    const store = new DirectoryStore(abs);
    if (!(await hasRootMetadata(store))) {
      throw new UsageError(
        `${p} is a directory but not a Zarr store (no zarr.json, .zgroup or .zarray in it)`,
      );
    }
    return { kind: "directory", path: abs, store };
  }
  if (abs.endsWith(".json")) {
    const store = await openShardedStore(abs, {
      confine: !options.allowOutside,
      allowUrls: options.allowUrls ?? false,
      remote: { s3: s3Options(options) },
    });
    return { kind: "config", path: abs, store, sharded: store };
  }
  if (await isZipFile(abs)) {
    const store = new ZipStore(abs, { mode: options.writable ? "a" : "r" });
    if (!(await hasRootMetadata(store))) {
      throw new UsageError(
        `${p} is a zip file but not a Zarr store (no zarr.json, .zgroup or .zarray in it)`,
      );
    }
    return { kind: "zip", path: abs, store };
  }
  throw new UsageError(`${p} is not a composition config (.json), a Zarr directory or a zip file`);
}

/**
 * Opens a composition config; anything else is a {@link UsageError}.
 *
 * @example
 * ```ts
 * const sharded = await openConfig("out/composition.json");
 * ```
 */
export async function openConfig(p: string, options: SourceOptions = {}): Promise<ShardedStore> {
  const src = await openSource(p, options);
  if (src.kind !== "config") {
    throw new UsageError(`${p} is a ${src.kind} store, not a composition config (.json)`);
  }
  return src.sharded;
}

/** What kind of store this is, for people: `DirectoryStore`, `ZipStore`, … */
export function storeType(store: Store): string {
  if (store instanceof ShardedStore) return "ShardedStore";
  return store.constructor?.name && store.constructor.name !== "Object" ? store.constructor.name : "store";
}

/**
 * Where a store lives: a path (relative to `relativeTo` when below it), a URL, or its description.
 *
 * @example
 * ```ts
 * storeLocation(new DirectoryStore("/out/data.zarr"), "/out"); // "data.zarr"
 * ```
 */
export function storeLocation(store: Store, relativeTo?: string): string {
  let where: string | undefined;
  if (store instanceof DirectoryStore) where = store.root;
  else if (store instanceof ZipStore) where = store.path ?? store.url;
  else {
    const url = (store as { url?: unknown }).url;
    if (typeof url === "string") return url;
  }
  if (where === undefined) return String(store);
  if (relativeTo !== undefined && !where.includes("://")) {
    const rel = path.relative(relativeTo, where);
    if (!rel.startsWith("..") && !path.isAbsolute(rel)) return rel;
  }
  return where;
}

/**
 * Closes a source's stores (flushing zips).
 *
 * @example
 * ```ts
 * await closeSource(src);
 * ```
 */
export async function closeSource(src: Source): Promise<void> {
  await src.store.close?.();
}
