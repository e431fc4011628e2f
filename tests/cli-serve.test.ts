import { readFileSync } from "node:fs";
import { mkdtemp, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zarr from "zarrita";
import { DirectoryStore, FetchStore, openShardedStore, type ShardedStore, type Store } from "../src/node.js";
import { startZarrServer, type ZarrServer } from "../src/serve/server.js";
import { listAll, readArray } from "./helpers/arrays.js";
import { cli } from "./helpers/cli-in-process.js";
import { python } from "./helpers/python.js";
import { raw } from "./helpers/raw-request.js";
import { tensorstoreRead } from "./helpers/tensorstore-read.js";

const SEED = fileURLToPath(new URL("./fixtures/python-seed/", import.meta.url));
type Values = Record<string, { dtype: string; shape: number[]; values: unknown }>;
const VALUES = JSON.parse(readFileSync(`${SEED}slash/values.json`, "utf8")) as Values;

let work: string;
let demo: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "ss-serve-"));
  demo = path.join(work, "demo");
  // The demo's report is not this test's subject: cli() captures it.
  expect((await cli(["demo", "--out", demo])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function arrayPaths(store: Store): Promise<string[]> {
  const keys = await listAll(store);
  return keys
    .filter((k) => k.endsWith("/zarr.json") || k.endsWith("/.zarray"))
    .map((k) => k.replace(/\/(zarr\.json|\.zarray)$/, ""));
}

describe("serve: the demo composition (Zarr v3) read by zarrita's FetchStore", () => {
  for (const flavour of ["sharded", "zip"]) {
    describe(flavour, () => {
      let store: ShardedStore;
      let server: ZarrServer;
      beforeAll(async () => {
        store = await openShardedStore(path.join(demo, flavour, "composition.json"));
        server = await startZarrServer(store, { cors: "*" });
      });
      afterAll(async () => {
        await server?.close();
        await store?.close();
      });

      it("reads every array equal to single.zarr", async () => {
        const remote = new zarr.FetchStore(server.url.slice(0, -1));
        const single = new DirectoryStore(path.join(demo, "single.zarr"));
        const paths = await arrayPaths(store);
        let arrays = 0;
        for (const p of paths) {
          const doc = JSON.parse(
            new TextDecoder().decode(await store.get(`${p}/zarr.json` as `/${string}`)),
          ) as {
            node_type: string;
          };
          if (doc.node_type !== "array") continue;
          arrays++;
          expect(await readArray(remote, p.slice(1)), p).toEqual(await readArray(single, p.slice(1)));
        }
        expect(arrays).toBe(11);
      });

      it("answers every listed key with the composition's bytes, and 404 for others", async () => {
        const keys = await listAll(store);
        expect(keys.length).toBe(99);
        for (const k of keys) {
          const r = await fetch(server.url + k.slice(1));
          expect(r.status, k).toBe(200);
          expect(new Uint8Array(await r.arrayBuffer()), k).toEqual(await store.get(k as `/${string}`));
        }
        expect((await fetch(`${server.url}simulation/fine/foo/c/99/0/0`)).status).toBe(404);
        expect((await fetch(`${server.url}people/nothing`)).status).toBe(404);
      });
    });
  }
});

describe("serve: the HTTP protocol", () => {
  let store: ShardedStore;
  let server: ZarrServer;
  let plain: ZarrServer;
  const chunk = "/simulation/fine/foo/c/3/1/0";
  let bytes: Uint8Array;
  beforeAll(async () => {
    store = await openShardedStore(path.join(demo, "sharded", "composition.json"));
    server = await startZarrServer(store, { cors: "https://viewer.example" });
    plain = await startZarrServer(store);
    bytes = (await store.get(chunk))!;
    expect(bytes.byteLength).toBeGreaterThan(16);
  });
  afterAll(async () => {
    await server?.close();
    await plain?.close();
    await store?.close();
  });

  it("answers HEAD with the length and no body", async () => {
    const r = await raw(server.url, chunk, { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(r.headers["content-length"]).toBe(String(bytes.byteLength));
    expect(r.body.byteLength).toBe(0);
  });

  it("answers single, open-ended and suffix ranges with 206 and Content-Range, for any range", async () => {
    const n = bytes.byteLength;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(n - 1),
        fc.nat(n + 5),
        fc.constantFrom("span", "open", "suffix"),
        async (a, b, kind) => {
          const header =
            kind === "span" ? `bytes=${a}-${a + b}` : kind === "open" ? `bytes=${a}-` : `bytes=-${b + 1}`;
          const r = await raw(server.url, chunk, { headers: { Range: header } });
          const start = kind === "suffix" ? Math.max(0, n - (b + 1)) : a;
          const end = kind === "span" ? Math.min(a + b, n - 1) : n - 1;
          expect(r.status, header).toBe(206);
          expect(r.headers["content-range"], header).toBe(`bytes ${start}-${end}/${n}`);
          expect(new Uint8Array(r.body), header).toEqual(bytes.subarray(start, end + 1));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("answers an unsatisfiable range with 416, and several ranges with the whole value (200)", async () => {
    const n = bytes.byteLength;
    const r416 = await raw(server.url, chunk, { headers: { Range: `bytes=${n}-` } });
    expect(r416.status).toBe(416);
    expect(r416.headers["content-range"]).toBe(`bytes */${n}`);
    const multi = await raw(server.url, chunk, { headers: { Range: "bytes=0-1,4-5" } });
    expect(multi.status).toBe(200);
    expect(new Uint8Array(multi.body)).toEqual(bytes);
  });

  it("sends ETag and Last-Modified for keys in directory stores, and 304 when unchanged", async () => {
    const r = await raw(server.url, chunk);
    const etag = r.headers.etag as string;
    expect(etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.headers["last-modified"]).toMatch(/GMT$/);
    expect((await raw(server.url, chunk, { headers: { "If-None-Match": etag } })).status).toBe(304);
    const lm = r.headers["last-modified"] as string;
    expect((await raw(server.url, chunk, { headers: { "If-Modified-Since": lm } })).status).toBe(304);
    // A changed file gets a new ETag, and a stale If-Range gets the whole value.
    const file = path.join(demo, "sharded", "data", "simulation", "fine", "foo", "3", "1.zarr", "c", "0");
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const again = await raw(server.url, chunk, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(200);
    expect(again.headers.etag).not.toBe(etag);
    const stale = await raw(server.url, chunk, { headers: { Range: "bytes=0-3", "If-Range": etag } });
    expect(stale.status).toBe(200);
    expect(stale.body.byteLength).toBe(bytes.byteLength);
  });

  it("sends CORS headers and answers the preflight only when asked to", async () => {
    const r = await raw(server.url, chunk, { headers: { Origin: "https://viewer.example" } });
    expect(r.headers["access-control-allow-origin"]).toBe("https://viewer.example");
    expect(String(r.headers["access-control-expose-headers"])).toMatch(/Content-Range.*Content-Length.*ETag/);
    const pre = await raw(server.url, chunk, {
      method: "OPTIONS",
      headers: { Origin: "https://viewer.example", "Access-Control-Request-Headers": "range" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers["access-control-allow-methods"]).toBe("GET, HEAD, OPTIONS");
    expect(String(pre.headers["access-control-allow-headers"])).toMatch(/Range/);
    const none = await raw(plain.url, chunk, { headers: { Origin: "https://viewer.example" } });
    expect(none.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("is read-only: every other method is 405 and nothing is written", async () => {
    for (const method of ["PUT", "POST", "DELETE", "PATCH"]) {
      const r = await raw(server.url, "/new-key", { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe("GET, HEAD, OPTIONS");
    }
    expect(await store.get("/new-key")).toBeUndefined();
  });

  it("never leaves the composition: dot segments, encoded dots, backslashes and NUL are refused; folders are not listed", async () => {
    for (const p of ["/", "/simulation/", "/people/"]) expect((await raw(server.url, p)).status, p).toBe(404);
    const escapes = fc.oneof(
      fc.constantFrom("..", "%2e%2e", "%2E%2e", ".%2e", "%2e.", ".", "%2e"),
      fc.constantFrom("a\\b", "%5c", "%5C..", "%00", "a%00b", "%0a", "%zz"),
    );
    const segment = fc.stringMatching(/^[a-z0-9._-]{1,6}$/).filter((s) => s !== "." && s !== "..");
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 3 }),
        escapes,
        fc.array(segment, { maxLength: 3 }),
        async (a, bad, b) => {
          const p = `/${[...a, bad, ...b, "etc", "passwd"].join("/")}`;
          const r = await raw(server.url, p);
          expect([400, 404], p).toContain(r.status);
        },
      ),
      { numRuns: 80 },
    );
    expect((await raw(server.url, "/../../../../etc/passwd")).status).toBe(400);
    expect((await raw(server.url, "//etc/passwd")).status).toBe(400);
  });

  it("bounds the reads in flight toward the stores", async () => {
    let inFlight = 0;
    let most = 0;
    const slow: Store = {
      async get(key) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return key === "/zarr.json" ? new Uint8Array([123, 125]) : undefined;
      },
    };
    const s = await startZarrServer(slow, { concurrency: 3 });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 12 }, () => raw(s.url, "/zarr.json").then((r) => r.status)),
      );
      expect(statuses).toEqual(new Array(12).fill(200));
      expect(most).toBe(3);
    } finally {
      await s.close();
    }
  });

  it("answers 502 (not a crash) when a store fails, and keeps serving", async () => {
    const broken: Store = {
      get(key) {
        if (key === "/bad") throw new Error("disk on fire");
        return new Uint8Array([1]);
      },
    };
    const errors: string[] = [];
    const sharded = new (await import("../src/node.js")).ShardedStore(broken);
    const s = await startZarrServer(sharded, {
      onError: (k, e) => errors.push(`${k}: ${(e as Error).message}`),
    });
    try {
      const r = await raw(s.url, "/bad");
      expect(r.status).toBe(502);
      expect(r.body.toString()).not.toMatch(/fire/);
      expect(errors[0]).toMatch(/^\/bad: .*disk on fire/);
      expect((await raw(s.url, "/good")).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});

describe("serve: other readers", () => {
  let v2: ShardedStore;
  let v2Server: ZarrServer;
  let v3: ShardedStore;
  let v3Server: ZarrServer;
  beforeAll(async () => {
    v2 = await openShardedStore(path.join(SEED, "slash", "config.json"));
    v2Server = await startZarrServer(v2);
    v3 = await openShardedStore(path.join(demo, "zip", "composition.json"));
    v3Server = await startZarrServer(v3);
  });
  afterAll(async () => {
    await v2Server?.close();
    await v3Server?.close();
  });

  it("zarr-python 2.13's FSStore over http:// reads every array of the original's v2 composition, consolidated", async () => {
    const out = await python(
      `import json, sys, zarr, numpy as np
from zarr.storage import FSStore
root = zarr.open_consolidated(FSStore(sys.argv[1], mode="r"), mode="r")
got = {}
def visit(name, node):
    if isinstance(node, zarr.Array):
        a = node[...]
        got[name] = {"dtype": str(node.dtype), "shape": list(node.shape), "values": np.asarray(a).tolist()}
root.visititems(visit)
print(json.dumps(got))`,
      v2Server.url,
    );
    const got = JSON.parse(out) as Values;
    expect(Object.keys(got).sort()).toEqual(Object.keys(VALUES).sort());
    for (const [name, want] of Object.entries(VALUES)) {
      expect(got[name]?.shape, name).toEqual(want.shape);
      expect(got[name]?.values, name).toEqual(want.values);
    }
  });

  it("serves the consolidated metadata (.zmetadata) as the base store has it", async () => {
    const r = await fetch(`${v2Server.url}.zmetadata`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(await v2.get("/.zmetadata"));
  });

  it("tensorstore's http kvstore reads v3 and v2 arrays equal to the source", async () => {
    const u = new URL(v3Server.url);
    const v3Arrays = ["simulation/fine/foo", "simulation/coarse/foo", "heights", "simulation/fine/x"];
    const got3 = await tensorstoreRead(
      { driver: "http", base_url: u.origin, path: "/" },
      v3Arrays.map((p) => ({
        path: p,
        driver: "zarr3" as const,
        ref: { driver: "file", path: `${demo}/single.zarr/${p}/` },
      })),
    );
    for (const p of v3Arrays) {
      expect(got3.arrays[p]?.error, p).toBeUndefined();
      expect(got3.arrays[p]!.got, p).toEqual(got3.arrays[p]!.want);
    }
    const v2Arrays = [
      "simulation/fine/foo",
      "simulation/coarse/foo",
      "observations/stations/temperature",
      "heights",
    ];
    const got2 = await tensorstoreRead(
      { driver: "http", base_url: new URL(v2Server.url).origin, path: "/" },
      v2Arrays.map((p) => ({
        path: p,
        driver: "zarr" as const,
        ref: { driver: "file", path: `${SEED}slash/single.zarr/${p}/` },
      })),
    );
    for (const p of v2Arrays) {
      expect(got2.arrays[p]?.error, p).toBeUndefined();
      expect(got2.arrays[p]!.got, p).toEqual(got2.arrays[p]!.want);
    }
  });

  it("our own FetchStore reads the served composition like the local one", async () => {
    const remote = new FetchStore(v2Server.url);
    for (const name of ["simulation/fine/foo", "observations/stations/temperature", "people"]) {
      expect(await readArray(remote, name), name).toEqual(await readArray(v2, name));
    }
  });
});
