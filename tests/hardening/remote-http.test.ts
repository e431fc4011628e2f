import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { FetchStore } from "../../src/fetch-store.js";
import { ZipStore } from "../../src/zip-store.js";
import { type ScriptedServer, serveRange, startScriptedServer } from "../helpers/http-server.js";
import { tempDirPerFile, writeZip } from "../helpers/zip-fixtures.js";

const data = new Uint8Array(100).map((_, i) => i);
const tmp = tempDirPerFile("ss-remote-http-");
let zip: Uint8Array;
const chunkA = new Uint8Array(300).fill(0xaa);
const chunkB = new Uint8Array(300).fill(0xbb);

beforeAll(async () => {
  await writeZip(`${tmp.dir}/a.zip`, { "x/zarr.json": "{}", "x/c/0": chunkA, "x/c/1": chunkB });
  zip = new Uint8Array(await readFile(`${tmp.dir}/a.zip`));
});

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(
  answer: (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>,
): Promise<ScriptedServer> {
  server = await startScriptedServer(answer);
  return server;
}

/** The asked `bytes=a-b` range of a request, as numbers. */
function asked(req: IncomingMessage): [number, number] {
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
  if (!m) throw new Error(`unexpected range ${req.headers.range}`);
  return [Number(m[1]), Number(m[2])];
}

describe("FetchStore never returns short or wrong bytes", () => {
  it("retries a 206 whose body is shorter than its Content-Range, then fails naming both", async () => {
    const srv = await serve((req, res) => {
      const [s, e] = asked(req);
      res
        .writeHead(206, { "Content-Range": `bytes ${s}-${e}/100`, "Content-Length": 5 })
        .end(data.subarray(s, s + 5));
    });
    const store = new FetchStore(srv.url, { retries: 1 });
    const err = await store.getRange("/blob", { offset: 10, length: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(String(err)).toMatch(
      /getRange "\/blob" failed: HTTP 206 Content-Range bytes 10-19\/100 promises 10 bytes but the body has 5, for the requested bytes=10-19.*gave up after 2 attempts/,
    );
    expect(srv.count).toBe(2);
  });

  it("cuts the asked bytes out of a wider 206 whose Content-Range proves where they are", async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(206, { "Content-Range": "bytes 0-99/100", "Content-Length": 100 }).end(data);
    });
    const store = new FetchStore(srv.url);
    expect(await store.getRange("/blob", { offset: 10, length: 10 })).toEqual(data.slice(10, 20));
    expect(await store.getRange("/blob", { suffixLength: 7 })).toEqual(data.slice(93));
    expect(srv.count).toBe(2);
  });

  it("refuses a 206 of another range, at once, saying which range it was", async () => {
    const srv = await serve((_req, res) => {
      res
        .writeHead(206, { "Content-Range": "bytes 0-9/100", "Content-Length": 10 })
        .end(data.subarray(0, 10));
    });
    const store = new FetchStore(srv.url);
    await expect(store.getRange("/blob", { offset: 10, length: 10 })).rejects.toThrow(
      /HTTP 206 Content-Range bytes 0-9\/100 does not match the requested bytes=10-19/,
    );
    await expect(store.getRange("/blob", { suffixLength: 10 })).rejects.toThrow(
      /does not match the requested bytes=-10/,
    );
    expect(srv.count).toBe(2); // not retried: the server answers the same each time
  });

  it("refuses a 206 without Content-Range unless its body is exactly the asked length", async () => {
    const srv = await serve((req, res) => {
      const [s] = asked(req);
      res.writeHead(206, { "Content-Length": 4 }).end(data.subarray(s, s + 4));
    });
    const store = new FetchStore(srv.url, { retries: 0 });
    expect(await store.getRange("/blob", { offset: 3, length: 4 })).toEqual(data.slice(3, 7));
    await expect(store.getRange("/blob", { offset: 3, length: 8 })).rejects.toThrow(
      /HTTP 206 without a Content-Range and 4 bytes does not prove it holds the requested bytes=3-10/,
    );
  });

  it("retries a 503 and a 429, then reads the value", async () => {
    const srv = await serve((req, res, n) => {
      if (n === 1) res.writeHead(503).end("busy");
      else if (n === 2) res.writeHead(429).end("slow down");
      else serveRange(req, res, data);
    });
    const store = new FetchStore(srv.url);
    expect(await store.get("/blob")).toEqual(data);
    expect(srv.count).toBe(3);
  });

  it("gives up after `retries` more attempts on a server that always answers 503", async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(503, "Service Unavailable").end();
    });
    const store = new FetchStore(srv.url, { retries: 2 });
    await expect(store.get("/blob")).rejects.toThrow(
      /FetchStore\(http:\/\/127\.0\.0\.1:\d+\): get "\/blob" failed: HTTP 503 Service Unavailable from .*\/blob; gave up after 3 attempts/,
    );
    expect(srv.count).toBe(3);
  });

  it("does not retry a 4xx", async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(403).end();
    });
    await expect(new FetchStore(srv.url).get("/blob")).rejects.toThrow(/HTTP 403/);
    expect(srv.count).toBe(1);
  });

  it("times out a server that never answers, and one that stalls mid-body", async () => {
    const silent = await serve(() => {});
    const t0 = Date.now();
    const err = await new FetchStore(silent.url, { timeout: 200, retries: 1 })
      .get("/blob")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(String(err)).toMatch(/no complete answer within 200 ms \(timeout\); gave up after 2 attempts/);
    expect(silent.count).toBe(2);
    expect(Date.now() - t0).toBeLessThan(10_000); // far below the ~300 s of a fetch without a timeout
    await silent.close();
    const stall = await serve((_req, res) => {
      res.writeHead(200, { "Content-Length": 100 });
      res.write(data.subarray(0, 10)); // and never the rest
    });
    await expect(new FetchStore(stall.url, { timeout: 200, retries: 0 }).get("/blob")).rejects.toThrow(
      /within 200 ms/,
    );
  });

  it("retries a connection reset mid-body", async () => {
    const srv = await serve((req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { "Content-Length": 100 });
        res.write(data.subarray(0, 10), () => req.socket.destroy());
      } else serveRange(req, res, data);
    });
    expect(await new FetchStore(srv.url).get("/blob")).toEqual(data);
    expect(srv.count).toBe(2);
  });

  it("keeps at most `concurrency` requests in flight, queueing the rest", async () => {
    const srv = await serve((req, res) => {
      setTimeout(() => serveRange(req, res, data), 30);
    });
    const store = new FetchStore(srv.url, { concurrency: 3 });
    const got = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.getRange("/blob", { offset: i, length: 2 })),
    );
    got.forEach((g, i) => {
      expect(g).toEqual(data.slice(i, i + 2));
    });
    expect(srv.maxInFlight).toBe(3);
    expect(srv.count).toBe(12);
  });

  it("lets a caller abort a request that waits for a slot", async () => {
    const srv = await serve(() => {}); // holds every request
    const store = new FetchStore(srv.url, { concurrency: 1, timeout: 400, retries: 0 });
    const first = store.get("/a").catch((e: unknown) => e);
    const ac = new AbortController();
    const second = store.get("/b", { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    const err = (await second) as Error;
    expect(err).toBeInstanceOf(StoreError);
    expect((err.cause as Error).name).toBe("AbortError");
    expect(String(await first)).toMatch(/within 400 ms/);
    expect(srv.count).toBe(1); // the aborted request never reached the server
  });

  it("rejects bad remote options at construction", () => {
    expect(() => new FetchStore("http://127.0.0.1:1", { timeout: 0 })).toThrow(
      /timeout must be an integer ≥ 1/,
    );
    expect(() => new FetchStore("http://127.0.0.1:1", { retries: -1 })).toThrow(/retries/);
    expect(() => new FetchStore("http://127.0.0.1:1", { concurrency: 1.5 })).toThrow(/concurrency/);
  });
});

describe("ZipStore over a URL never returns another entry's bytes", () => {
  it("reads right through a server that sends wider ranges than asked, with a true Content-Range", async () => {
    const srv = await serve((req, res) => {
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
      if (!m || m[1] === "") return serveRange(req, res, zip); // suffix requests answered right
      const s = Math.max(0, Number(m[1]) - 64);
      const e = Math.min(zip.length - 1, Number(m[2]) + 64);
      res
        .writeHead(206, { "Content-Range": `bytes ${s}-${e}/${zip.length}`, "Content-Length": e - s + 1 })
        .end(zip.subarray(s, e + 1));
    });
    const z = new ZipStore(`${srv.url}/a.zip`);
    expect(await z.get("/x/c/1")).toEqual(chunkB);
    expect(await z.get("/x/c/0")).toEqual(chunkA);
    expect(await z.getRange("/x/c/1", { offset: 10, length: 5 })).toEqual(chunkB.slice(10, 15));
  });

  it("refuses a 206 that starts elsewhere (another entry's bytes), naming the archive and the key", async () => {
    const srv = await serve((req, res) => {
      const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
      if (!m || m[1] === "") return serveRange(req, res, zip);
      const len = Number(m[2]) - Number(m[1]) + 1;
      const s = Math.max(0, Number(m[1]) - 300);
      res
        .writeHead(206, { "Content-Range": `bytes ${s}-${s + len - 1}/${zip.length}`, "Content-Length": len })
        .end(zip.subarray(s, s + len));
    });
    const z = new ZipStore(`${srv.url}/a.zip`);
    const err = await z.get("/x/c/1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(String(err)).toMatch(
      /ZipStore\(http:\/\/127\.0\.0\.1:\d+\/a\.zip\): get "\/x\/c\/1" failed: HTTP 206 Content-Range bytes \d+-\d+\/\d+ does not match the requested bytes=\d+-\d+/,
    );
  });

  it("retries a short tail and fails clearly when it stays short", async () => {
    const srv = await serve((_req, res) => {
      res
        .writeHead(206, { "Content-Range": `bytes 0-${zip.length - 1}/${zip.length}`, "Content-Length": 10 })
        .end(zip.subarray(0, 10));
    });
    const z = new ZipStore(`${srv.url}/a.zip`, { retries: 1 });
    await expect(z.get("/x/c/1")).rejects.toThrow(
      /promises \d+ bytes but the body has 10.*gave up after 2 attempts/,
    );
    expect(srv.count).toBe(2);
  });

  it("times out a stalled server with its configured timeout", async () => {
    const srv = await serve(() => {});
    const z = new ZipStore(`${srv.url}/a.zip`, { timeout: 200, retries: 0 });
    await expect(z.get("/x/c/1")).rejects.toThrow(/within 200 ms/);
  });

  it("keeps at most `concurrency` range requests in flight", async () => {
    const srv = await serve((req, res) => {
      setTimeout(() => serveRange(req, res, zip), 20);
    });
    const z = new ZipStore(`${srv.url}/a.zip`, { concurrency: 2 });
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) => z.getRange("/x/c/0", { offset: i, length: 3 })),
    );
    for (const g of got) expect(g).toEqual(chunkA.slice(0, 3));
    expect(srv.maxInFlight).toBe(2);
  });
});
