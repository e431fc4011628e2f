import { describe, expect, it } from "vitest";
import "../../src/config/node-types.js";
import { validateConfig } from "../../src/config/validate.js";
import { ConfigError } from "../../src/errors.js";
import { FetchStore } from "../../src/fetch-store.js";
import { ShardedStore } from "../../src/index.js";
import { MemoryStore } from "../../src/memory-store.js";
import { S3Store } from "../../src/s3-store.js";
import type { Store } from "../../src/types.js";
import { ZipStore as UrlZipStore } from "../../src/zip-store.js";
import { ZipStore as NodeZipStore } from "../../src/zip-store-node.js";

const remote = { timeout: 1234, retries: 1, concurrency: 5 };
const creds = { accessKeyId: "AKIDSECRET", secretAccessKey: "very-secret" };

function roundTrip(shard: Store): { text: string; back: Store } {
  const config = new ShardedStore(new MemoryStore(), { shards: { s: shard } }).toConfig();
  const text = JSON.stringify(config);
  validateConfig(JSON.parse(text));
  const back = ShardedStore.fromConfig(JSON.parse(text)).resolve("/s/x").store;
  return { text, back };
}

describe("remote options in configs", () => {
  it("survive for a read-only FetchStore, beside the FSStore form zarr-python reads", () => {
    const { text, back } = roundTrip(
      new FetchStore("https://example.com/a.zarr", { ...remote, fullBodyLimit: 99 }),
    );
    expect(text).toContain('"name":"FSStore"');
    expect(text).toContain('"kwargs":{"mode":"r"}'); // nothing zarr-python would hand to fsspec
    expect(back).toBeInstanceOf(FetchStore);
    const f = back as FetchStore;
    expect([f.policy.timeout, f.policy.retries, f.policy.concurrency, f.fullBodyLimit]).toEqual([
      1234, 1, 5, 99,
    ]);
  });

  it("survive for a writable FetchStore, and the defaults are not written", () => {
    const { text, back } = roundTrip(
      new FetchStore("https://example.com/a.zarr", { writable: true, retries: 0 }),
    );
    expect(text).toContain('"kwargs":{"retries":0,"writable":true}');
    expect((back as FetchStore).policy.retries).toBe(0);
    expect((back as FetchStore).policy.timeout).toBe(30_000);
    expect(roundTrip(new FetchStore("https://example.com/b.zarr")).text).not.toMatch(/timeout|retries/);
  });

  it("survive for an S3Store, whose credentials are never written", () => {
    const s3 = new S3Store({ bucket: "b", prefix: "p", region: "eu-west-1", credentials: creds, ...remote });
    const { text, back } = roundTrip(s3);
    expect(text).not.toMatch(/AKIDSECRET|very-secret/);
    const b = back as S3Store;
    expect([b.bucket, b.prefix, b.region]).toEqual(["b", "p", "eu-west-1"]);
    expect([b.policy.timeout, b.policy.retries, b.policy.concurrency]).toEqual([1234, 1, 5]);
  });

  it("survive for a ZipStore over a URL, in both entry points", () => {
    for (const z of [
      new UrlZipStore("https://example.com/a.zip", { ...remote, headers: { Authorization: "Bearer t0ken" } }),
      new NodeZipStore("https://example.com/a.zip", {
        ...remote,
        headers: { Authorization: "Bearer t0ken" },
      }),
    ]) {
      const { text, back } = roundTrip(z);
      expect(text).toContain('"kwargs":{"timeout":1234,"retries":1,"concurrency":5}');
      expect(text).not.toMatch(/t0ken/);
      expect((back as UrlZipStore).remoteOptions).toEqual(remote);
    }
  });

  it("write a zip in a bucket as an s3:// URL with its connection options, never credentials", () => {
    const s3 = new S3Store({
      bucket: "b",
      prefix: "dir",
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:9",
      forcePathStyle: true,
      credentials: creds,
      timeout: 777,
    });
    const { text, back } = roundTrip(new UrlZipStore({ store: s3, key: "/a.zarr.zip" }));
    expect(text).toContain(
      '"args":["s3://b/dir/a.zarr.zip?endpoint=http%3A%2F%2F127.0.0.1%3A9&region=eu-west-1&forcePathStyle=true&timeout=777"]',
    );
    expect(text).not.toMatch(/AKIDSECRET|very-secret/);
    const archive = (back as UrlZipStore).archive;
    expect(archive?.key).toBe("/a.zarr.zip");
    const st = archive?.store as S3Store;
    expect([st.bucket, st.prefix, st.endpoint, st.forcePathStyle, st.policy.timeout]).toEqual([
      "b",
      "dir",
      "http://127.0.0.1:9",
      true,
      777,
    ]);
  });

  it("reject bad remote options naming the member", () => {
    const bad = {
      name: "ShardedStore",
      module: "shardedstore",
      config: {
        args: [
          {
            name: "S3Store",
            module: "shardedstore",
            config: { args: [], kwargs: { bucket: "b", retries: -1 } },
          },
        ],
        kwargs: {},
      },
    };
    expect(() => ShardedStore.fromConfig(bad)).toThrow(ConfigError);
    expect(() => ShardedStore.fromConfig(bad)).toThrow(/retries/);
    const badZip = {
      ...bad,
      config: {
        args: [
          {
            name: "ZipStore",
            module: "shardedstore",
            config: { args: ["s3://b/a.zip?secretAccessKey=x"], kwargs: {} },
          },
        ],
        kwargs: {},
      },
    };
    expect(() => ShardedStore.fromConfig(badZip)).toThrow(/unknown query member "secretAccessKey"/);
  });
});
