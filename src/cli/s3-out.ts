// Writing a command's output to `s3://bucket/prefix`: where things go, the checks before writing,
// uploads, the per-store "done" markers that make a rerun resumable, and part manifests in S3.
import { open, stat } from "node:fs/promises";
import type { AbsolutePath, S3StoreOptions, Store } from "../node.js";
import { copyStore, parseS3Url, S3Store } from "../node.js";
import { UsageError } from "./errors.js";
import { type SourceOptions, s3Options } from "./open.js";
import {
  manifestName,
  PARTS_DIR,
  type Part,
  type PartManifest,
  type PartsPlace,
  partsNamed,
} from "./parts.js";

/**
 * What {@link S3Output.survey} found below an output prefix.
 *
 * @example
 * ```ts
 * const skip = survey.complete("data/people.zarr.zip", true);
 * ```
 */
export interface S3Survey {
  /** The store at `rel` is marked complete (and, for a zip, its object has the marked size). */
  complete(rel: string, zip: boolean): boolean;
  /** Objects exist below the store prefix `rel` (a directory store). */
  occupied(rel: string): boolean;
}

/** The folder below an S3 output prefix holding one marker per store written completely. */
export const DONE_DIR = ".shardedstore-done";

/**
 * The name of a store's marker below {@link DONE_DIR}: `REL.json`, or `REL.SIZE.json` for a zip of
 * SIZE bytes (so one listing gives both).
 *
 * @example
 * ```ts
 * markerName("data/people.zarr.zip", 1024); // "data/people.zarr.zip.1024.json"
 * ```
 */
export function markerName(rel: string, size?: number): string {
  return size === undefined ? `${rel}.json` : `${rel}.${size}.json`;
}

/**
 * The store and zip size a marker name records (see {@link markerName}); `undefined` for a name
 * that is no marker.
 *
 * @example
 * ```ts
 * parseMarkerName("data.zarr.zip.77.json"); // { rel: "data.zarr.zip", size: 77 }
 * ```
 */
export function parseMarkerName(name: string): { rel: string; size?: number } | undefined {
  const m = /^(.*\.zarr\.zip)\.(\d+)\.json$|^(.*\.zarr)\.json$/.exec(name);
  if (m?.[1] !== undefined) return { rel: m[1], size: Number(m[2]) };
  if (m?.[3] !== undefined) return { rel: m[3] };
  return undefined;
}

/**
 * `true` for an `s3://` output location.
 *
 * @example
 * ```ts
 * isS3Location("s3://bucket/out"); // true
 * ```
 */
export const isS3Location = (s: string): boolean => /^s3:\/\//i.test(s);

const join = (a: string, b: string) => (a === "" ? b : b === "" ? a : `${a}/${b}`);

/** Every message and cause of an error, for recognising what the SDK said. */
function chain(e: unknown): { names: string; text: string } {
  const names: string[] = [];
  const text: string[] = [];
  for (let x = e, i = 0; x !== undefined && x !== null && i < 6; x = (x as { cause?: unknown }).cause, i++) {
    const o = x as { name?: string; Code?: string; message?: string };
    names.push(o.Code ?? "", o.name ?? "");
    text.push(o.message ?? String(x));
  }
  return { names: names.join(" "), text: text.join(" ") };
}

/**
 * An `s3://bucket/prefix` output: the connection (from `--s3-endpoint` and the URL's query; never
 * written anywhere) and the objects below the prefix. One client serves every call; `close()` ends it.
 *
 * @example
 * ```ts
 * const out = S3Output.parse("s3://bucket/converted", { s3Endpoint: "http://127.0.0.1:9000" });
 * await out.check({ empty: false });
 * await out.close();
 * ```
 */
export class S3Output {
  readonly bucket: string;
  /** The key prefix, without leading or trailing `/`. */
  readonly prefix: string;
  /** `s3://bucket/prefix` without the query, for messages. */
  readonly url: string;
  readonly conn: Omit<S3StoreOptions, "bucket" | "prefix">;
  /** The bucket's root: every object is reached through it (one client). */
  readonly root: S3Store;

  private constructor(bucket: string, prefix: string, conn: Omit<S3StoreOptions, "bucket" | "prefix">) {
    this.bucket = bucket;
    this.prefix = prefix;
    this.url = `s3://${bucket}/${prefix}`;
    this.conn = conn;
    this.root = new S3Store({ ...conn, bucket });
  }

  /**
   * Reads `--out s3://bucket/prefix[?endpoint=…&timeout=…&retries=…]` with the command's
   * `--s3-endpoint`; a bad URL is a {@link UsageError}.
   *
   * @example
   * ```ts
   * S3Output.parse("s3://b/out?timeout=5000", {}).prefix; // "out"
   * ```
   */
  static parse(url: string, opts: SourceOptions): S3Output {
    let loc: ReturnType<typeof parseS3Url>;
    try {
      loc = parseS3Url(url);
    } catch (e) {
      throw new UsageError(`--out ${url}: ${(e as Error).message}`);
    }
    if (loc.bucket === "") throw new UsageError(`--out ${url} names no bucket`);
    const conn: Omit<S3StoreOptions, "bucket" | "prefix"> = { ...s3Options(opts), ...loc.options };
    if (loc.options.endpoint !== undefined) {
      conn.forcePathStyle ??= true;
      conn.region ??= process.env.AWS_REGION ?? "us-east-1";
    }
    return new S3Output(loc.bucket, loc.prefix, conn);
  }

  /** The object key of `rel` below the prefix. */
  key(rel: string): AbsolutePath {
    return `/${join(this.prefix, rel)}`;
  }

  /** `s3://bucket/prefix/rel`, for messages. */
  where(rel = ""): string {
    return `s3://${this.bucket}/${join(this.prefix, rel)}`;
  }

  /**
   * A store over the objects below `prefix/rel` (sharing nothing with other stores' clients).
   *
   * @example
   * ```ts
   * const base = out.store("data.zarr");
   * ```
   */
  store(rel: string): S3Store {
    return new S3Store({ ...this.conn, bucket: this.bucket, prefix: join(this.prefix, rel) });
  }

  /**
   * Checks that the output can be written before anything is: the bucket exists and answers with
   * the credentials given, and (with `empty`) nothing is below the prefix yet. Each failure is a
   * {@link UsageError} naming the bucket and what to do.
   *
   * @example
   * ```ts
   * await out.check({ empty: true });
   * ```
   */
  async check(options: { empty: boolean; what?: string }): Promise<void> {
    let first: string | undefined;
    try {
      for await (const k of this.root.list(`/${this.prefix}` as AbsolutePath)) {
        first = k;
        break;
      }
    } catch (e) {
      throw this.explain(e);
    }
    if (options.empty && first !== undefined) {
      throw new UsageError(
        `${options.what ?? "--out"} ${this.url} is not empty (it holds ${`s3://${this.bucket}${first}`}); choose a new prefix`,
      );
    }
  }

  /** A failure to reach the output as a {@link UsageError} that says what went wrong and what to do. */
  explain(e: unknown): Error {
    const { names, text } = chain(e);
    const at = this.conn.endpoint ?? "AWS S3";
    let why: string;
    if (/NoSuchBucket/.test(names) || /specified bucket does not exist/i.test(text)) {
      why = `there is no bucket "${this.bucket}" at ${at}; create it first`;
    } else if (/CredentialsProviderError/.test(names) || /Could not load credentials/i.test(text)) {
      why = "no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)";
    } else if (/InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|Forbidden/.test(names)) {
      why = `${at} refused the credentials (${text.split(" | ")[0]?.slice(0, 160)})`;
    } else if (/Region is missing/i.test(text)) {
      why = "no region (set AWS_REGION, or give --s3-endpoint for an S3-compatible server)";
    } else if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|timeout|socket hang up/i.test(text)) {
      why = `cannot reach ${at} (${(e as Error).message})`;
    } else {
      return e instanceof Error ? e : new Error(String(e));
    }
    return new UsageError(`cannot write to ${this.url}: ${why}`, { cause: e });
  }

  /**
   * Uploads a local file as the object `prefix/rel` (one PutObject, multipart above 16 MiB; parts
   * read from the file one at a time).
   *
   * @example
   * ```ts
   * await out.uploadFile("data.zarr.zip", "/tmp/x/data.zarr.zip");
   * ```
   */
  async uploadFile(rel: string, file: string): Promise<number> {
    const { size } = await stat(file);
    const fh = await open(file, "r");
    try {
      await this.root.upload(this.key(rel), size, async (start, end) => {
        const buf = new Uint8Array(end - start);
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
          if (bytesRead === 0) throw new Error(`${file} shrank while it was uploaded`);
          got += bytesRead;
        }
        return buf;
      });
    } finally {
      await fh.close();
    }
    return size;
  }

  /**
   * Copies a store into the objects below `prefix/rel`. With `clean`, first deletes what an
   * interrupted earlier copy left there (S3 has no rename: completeness is the marker, see
   * {@link S3Output.markDone}).
   *
   * @example
   * ```ts
   * await out.copyInto("data.zarr", source, { clean: true, concurrency: 8 });
   * ```
   */
  async copyInto(
    rel: string,
    from: Store,
    options: { clean: boolean; concurrency?: number; onBytes?: (n: number) => void },
  ): Promise<{ keys: number; bytes: number }> {
    const target = this.store(rel);
    try {
      if (options.clean) {
        const stale: AbsolutePath[] = [];
        for await (const k of target.list()) stale.push(k);
        for (const k of stale) await target.delete(k);
      }
      const { clean: _, ...copy } = options;
      return await copyStore(from, target, copy);
    } finally {
      await target.close();
    }
  }

  /** Writes `value` as JSON at `prefix/rel` (one PutObject: never seen half-written). */
  async putJson(rel: string, value: unknown): Promise<void> {
    await this.root.set(this.key(rel), new TextEncoder().encode(`${JSON.stringify(value, null, 1)}\n`));
  }

  /** Reads the JSON at `prefix/rel`; `undefined` when there is none. */
  async getJson<T>(rel: string): Promise<T | undefined> {
    const bytes = await this.root.get(this.key(rel));
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as T;
    } catch (e) {
      throw new UsageError(`${this.where(rel)} is not valid JSON: ${(e as Error).message}`);
    }
  }

  /**
   * Records that the store at `prefix/rel` is complete: an object
   * `prefix/.shardedstore-done/REL.json` (`REL.SIZE.json` for a zip of SIZE bytes, so one listing
   * tells both), written after the store's last object, so a rerun skips it.
   *
   * @example
   * ```ts
   * await out.markDone("data/people.zarr.zip", { size: 1024, keys: 2 });
   * ```
   */
  async markDone(rel: string, info: { size?: number; keys?: number }): Promise<void> {
    await this.putJson(`${DONE_DIR}/${markerName(rel, info.size)}`, info);
  }

  /**
   * What is already below the prefix, from one listing: the stores marked complete (a zip with the
   * size it had), the size of every object, and the stores whose prefix holds objects.
   *
   * @example
   * ```ts
   * const s = await out.survey();
   * if (s.complete("data.zarr.zip", true)) console.log("skip");
   * ```
   */
  async survey(): Promise<S3Survey> {
    const done = new Map<string, number | undefined>();
    const sizes = new Map<string, number>();
    const occupied = new Set<string>();
    const root = this.prefix === "" ? "/" : `/${this.prefix}/`;
    const marks = `${root}${DONE_DIR}/`;
    for await (const { key, size } of this.root.listSized(`/${this.prefix}` as AbsolutePath)) {
      if (key.startsWith(marks)) {
        const m = parseMarkerName(key.slice(marks.length));
        if (m !== undefined) done.set(m.rel, m.size);
        continue;
      }
      const rel = key.slice(root.length);
      sizes.set(rel, size);
      // Every ".zarr/" in the key may end a store's prefix (the layout's stores are named *.zarr).
      for (let i = rel.indexOf(".zarr/"); i !== -1; i = rel.indexOf(".zarr/", i + 1)) {
        occupied.add(rel.slice(0, i + ".zarr".length));
      }
    }
    return {
      complete: (rel, zip) => done.has(rel) && (!zip || sizes.get(rel) === done.get(rel)),
      occupied: (rel) => occupied.has(rel),
    };
  }

  /**
   * The part manifests of a split run, under `prefix/.shardedstore-parts/`.
   *
   * @example
   * ```ts
   * const parts = out.parts();
   * await parts.list();
   * ```
   */
  parts(): PartsPlace {
    return {
      label: this.url,
      read: (p: Part) => this.getJson<PartManifest>(`${PARTS_DIR}/${manifestName(p)}`),
      write: (m: PartManifest) => this.putJson(`${PARTS_DIR}/${manifestName({ k: m.part, n: m.of })}`, m),
      list: async () => {
        const dir = this.key(PARTS_DIR);
        const names: string[] = [];
        for await (const k of this.root.list(dir)) names.push(k.slice(dir.length + 1));
        return partsNamed(names);
      },
    };
  }

  /** Ends the client. */
  async close(): Promise<void> {
    await this.root.close();
  }
}
