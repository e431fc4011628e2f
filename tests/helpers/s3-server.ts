import { AsyncLocalStorage } from "node:async_hooks";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { parseRange } from "./http-server.js";

/** The parts of s3rver 3.x we use (it ships no types). */
interface S3rverObject {
  size: number;
  content: Readable | null;
  range?: { start: number; end: number };
}
interface S3rverStore {
  getObject(
    bucket: string,
    key: string,
    options?: { start?: number; end?: number },
  ): Promise<S3rverObject | null>;
  getResourcePath(bucket: string, key: string, resource: string): string;
}
interface S3rverKoaContext {
  method: string;
  headers: Record<string, string | string[] | undefined>;
}
interface S3rverInstance {
  store: S3rverStore;
  middleware: Array<(ctx: S3rverKoaContext, next: () => Promise<void>) => Promise<void>>;
  httpServer?: Server;
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
}) => S3rverInstance;

const require = createRequire(import.meta.url);

/**
 * s3rver signs ListObjectsV2 continuation tokens with single DES (`createCipheriv("des", …)`), which
 * OpenSSL 3 (Node ≥ 17) only has in its legacy provider: every truncated listing fails with
 * ERR_OSSL_EVP_UNSUPPORTED (HTTP 500). Two-key triple DES with both keys equal is the same cipher
 * (E_k∘D_k∘E_k = E_k), and OpenSSL 3 still has it, so "des" is mapped to "des-ede-cbc" with the key
 * doubled. Installed once per process, only when "des" is missing; nothing else is touched.
 */
function enableDesForS3rver(): void {
  const crypto = require("node:crypto") as typeof import("node:crypto") & { __ssDesShim?: true };
  if (crypto.__ssDesShim || crypto.getCiphers().includes("des")) return;
  const cipher = crypto.createCipheriv;
  const decipher = crypto.createDecipheriv;
  const map = (alg: string, key: unknown): [string, unknown] =>
    alg === "des" && Buffer.isBuffer(key) && key.length === 8
      ? ["des-ede-cbc", Buffer.concat([key, key])]
      : [alg, key];
  const patched = crypto as unknown as Record<
    string,
    (alg: string, key: unknown, ...rest: unknown[]) => unknown
  >;
  patched.createCipheriv = (alg, key, ...rest) => {
    const [a, k] = map(alg, key);
    return (cipher as unknown as (...args: unknown[]) => unknown)(a, k, ...rest);
  };
  patched.createDecipheriv = (alg, key, ...rest) => {
    const [a, k] = map(alg, key);
    return (decipher as unknown as (...args: unknown[]) => unknown)(a, k, ...rest);
  };
  crypto.__ssDesShim = true;
}

/** A running s3rver; `close()` stops it, destroys the clients it made and deletes its directory. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Options that make an S3Client (or an S3Store) talk to this server. */
  clientConfig: {
    region: string;
    endpoint: string;
    forcePathStyle: true;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** A new client for this server (destroyed by `close()`). */
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Makes s3rver's GetObject honour `Range` as S3 does. s3rver 3.7.1 reads `bytes=-n` as `bytes=0-n`
 * (no suffix ranges), reads `bytes=0-0` as the whole object, and answers a range on an empty object
 * with `Content-Length: 1` and no body. The Range header is signed, so it cannot be rewritten before
 * s3rver checks the signature: the original header is carried to the store's `getObject` instead.
 */
function fixRanges(srv: S3rverInstance): void {
  const rangeHeader = new AsyncLocalStorage<string>();
  srv.middleware.unshift((ctx, next) => {
    const range = ctx.headers.range;
    return ctx.method === "GET" && typeof range === "string" ? rangeHeader.run(range, next) : next();
  });
  const store = srv.store;
  const original = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const header = rangeHeader.getStore();
    if (header === undefined) return original(bucket, key, options);
    const object = await original(bucket, key);
    if (!object) return object;
    object.content?.destroy();
    const range = parseRange(header, object.size);
    if (range === undefined) {
      object.content = createReadStream(store.getResourcePath(bucket, key, "object"));
    } else if (range === "unsatisfiable") {
      object.content = null; // s3rver answers 416 InvalidRange for a range without content
      object.range = { start: 0, end: 0 };
    } else {
      const [start, end] = range;
      object.content = createReadStream(store.getResourcePath(bucket, key, "object"), { start, end });
      object.range = { start, end };
    }
    return object;
  };
}

/**
 * Starts s3rver in-process on 127.0.0.1 (a free port) over a fresh temp directory.
 *
 * @example
 * ```ts
 * const s3 = await startS3Server();
 * await s3.createBucket("test-bucket");
 * const store = new S3Store({ bucket: "test-bucket", ...s3.clientConfig });
 * afterAll(() => s3.close());
 * ```
 */
export async function startS3Server(): Promise<S3TestServer> {
  enableDesForS3rver();
  const S3rver = require("s3rver") as S3rverCtor;
  const directory = await mkdtemp(path.join(tmpdir(), "ss-s3rver-"));
  const srv = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true });
  fixRanges(srv);
  const { port } = await srv.run();
  srv.httpServer?.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig = {
    region: "us-east-1",
    endpoint,
    forcePathStyle: true as const,
    // s3rver's built-in account
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  };
  const clients: S3Client[] = [];
  const client = () => {
    const c = new S3Client(clientConfig);
    clients.push(c);
    return c;
  };
  const admin = client();
  return {
    endpoint,
    clientConfig,
    client,
    createBucket: async (name) => {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
    },
    close: async () => {
      for (const c of clients) c.destroy();
      srv.httpServer?.closeAllConnections();
      await srv.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
