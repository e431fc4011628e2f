import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { StoreError } from "../../src/errors.js";
import { S3Store } from "../../src/s3-store.js";
import { type ScriptedServer, serveRange, startScriptedServer } from "../helpers/http-server.js";

const data = new Uint8Array(100).map((_, i) => i);
const creds = { accessKeyId: "x", secretAccessKey: "y" };

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** An S3 look-alike (path-style, no signature check) answering as `answer` says. */
async function fakeS3(answer: Parameters<typeof startScriptedServer>[0]): Promise<S3Store> {
  server = await startScriptedServer(answer);
  return new S3Store({
    bucket: "b",
    prefix: "p",
    endpoint: server.url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: creds,
  });
}

function storeAt(endpoint: string, extra: Partial<ConstructorParameters<typeof S3Store>[0]> = {}) {
  return new S3Store({
    bucket: "b",
    prefix: "p",
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: creds,
    ...extra,
  });
}

describe("S3Store over an endpoint that misbehaves", () => {
  it("fails by its timeout on an endpoint that accepts connections and never answers", async () => {
    const sockets: Socket[] = [];
    const tcp = createServer((s) => {
      sockets.push(s);
    });
    await new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r));
    tcp.unref();
    const { port } = tcp.address() as { port: number };
    try {
      const store = storeAt(`http://127.0.0.1:${port}`, { timeout: 200, retries: 1 });
      const t0 = Date.now();
      const err = await store.get("/k").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(String(err)).toMatch(/S3Store\(s3:\/\/b\/p\): get "\/k" failed: .*gave up after 2 attempts/);
      expect(sockets.length).toBe(2);
      expect(Date.now() - t0).toBeLessThan(15_000); // not the minutes of a store without a timeout
      await expect(store.getRange("/k", { offset: 0, length: 4 })).rejects.toThrow(
        /gave up after 2 attempts/,
      );
      await store.close();
    } finally {
      for (const s of sockets) s.destroy();
      tcp.close();
    }
  });

  it("fails by its timeout on an endpoint that sends headers and stalls mid-body", async () => {
    await fakeS3((_req, res) => {
      res.writeHead(200, { "Content-Length": 100 });
      res.write(data.subarray(0, 10)); // and never the rest
    });
    const store = storeAt(server!.url, { timeout: 300, retries: 0 });
    await expect(store.get("/k")).rejects.toThrow(
      /S3Store\(s3:\/\/b\/p\): get "\/k" failed: .*(300 ms|timeout)/i,
    );
    await store.close();
  });

  it("refuses a 206 whose Content-Range is not the range asked", async () => {
    const store = await fakeS3((_req, res) => {
      res
        .writeHead(206, { "Content-Range": "bytes 0-9/100", "Content-Length": 10 })
        .end(data.subarray(0, 10));
    });
    const err = await store.getRange("/k", { offset: 10, length: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(String(err)).toMatch(
      /S3Store\(s3:\/\/b\/p\): getRange "\/k" failed: HTTP 206 Content-Range bytes 0-9\/100 does not match the requested bytes=10-19/,
    );
    expect(server?.count).toBe(1);
    await store.close();
  });

  it("cuts the asked bytes out of a wider 206, and reads the size from a suffix answer", async () => {
    const store = await fakeS3((req, res) => {
      if (req.headers.range === "bytes=-5") return serveRange(req, res, data);
      res.writeHead(206, { "Content-Range": "bytes 0-99/100", "Content-Length": 100 }).end(data);
    });
    expect(await store.getRange("/k", { offset: 10, length: 10 })).toEqual(data.slice(10, 20));
    expect(await store.tail("/k", 5)).toEqual({ bytes: data.slice(95), size: 100 });
    await store.close();
  });

  it("retries a 503 and a short body, then reads", async () => {
    const store = await fakeS3((req, res, n) => {
      if (n === 1) res.writeHead(503).end();
      else if (n === 2) {
        res.writeHead(200, { "Content-Length": 100 });
        res.write(data.subarray(0, 10), () => req.socket.destroy());
      } else serveRange(req, res, data);
    });
    expect(await store.get("/k")).toEqual(data);
    expect(server?.count).toBe(3);
    await store.close();
  });

  it("gives up after `retries` on an endpoint that always answers 503, naming bucket and key", async () => {
    const store = await fakeS3((_req, res) => {
      res.writeHead(503).end();
    });
    const s = storeAt(server!.url, { retries: 2 });
    await expect(s.get("/a/b")).rejects.toThrow(
      /S3Store\(s3:\/\/b\/p\): get "\/a\/b" failed: .*gave up after 3 attempts/,
    );
    expect(server?.count).toBe(3);
    await s.close();
    await store.close();
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    await fakeS3((req, res) => {
      setTimeout(() => serveRange(req, res, data), 30);
    });
    const store = storeAt(server!.url, { concurrency: 2 });
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.getRange("/k", { offset: i, length: 1 })),
    );
    got.forEach((g, i) => {
      expect(g).toEqual(data.slice(i, i + 1));
    });
    expect(server?.maxInFlight).toBe(2);
    await store.close();
  });
});
