import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DirectoryStore } from "../../src/directory-store.js";
import type { Store } from "../../src/types.js";
import { type Decoded, readArray } from "./arrays.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Runs the built CLI's `demo --out dir` (sharded/, zip/ and single.zarr under `dir`). */
export async function writeDemo(dir: string): Promise<void> {
  await promisify(execFile)(process.execPath, [CLI, "demo", "--out", dir, "--no-progress"]);
}

/** The paths of every array in a directory store (from its zarr.json / .zarray documents). */
export async function arrayPaths(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, ent.name);
      if (ent.isDirectory()) await walk(p, rel === "" ? ent.name : `${rel}/${ent.name}`);
      else if (ent.name === ".zarray") out.push(rel);
      else if (ent.name === "zarr.json") {
        const doc = JSON.parse(await readFile(p, "utf8")) as { node_type?: string };
        if (doc.node_type === "array") out.push(rel);
      }
    }
  };
  await walk(root, "");
  return out.sort();
}

/** Every array of `names` read with zarrita from `store`. */
export async function readAll(store: Store, names: string[]): Promise<Record<string, Decoded>> {
  const out: Record<string, Decoded> = {};
  for (const name of names) out[name] = await readArray(store, name);
  return out;
}

/** Every array of a directory store, read with zarrita (the reference). */
export async function readReference(root: string): Promise<Record<string, Decoded>> {
  return readAll(new DirectoryStore(root), await arrayPaths(root));
}

/** Uploads every file under `dir` to `bucket` under `prefix/`. */
export async function uploadDir(
  client: S3Client,
  bucket: string,
  dir: string,
  prefix: string,
): Promise<number> {
  let n = 0;
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const ent of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      const key = `${rel}/${ent.name}`;
      if (ent.isDirectory()) await walk(p, key);
      else {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(p) }));
        n++;
      }
    }
  };
  await walk(dir, prefix);
  return n;
}
