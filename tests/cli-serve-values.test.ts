// serve's read paths below the HTTP layer: zip entries answered from the central directory (HEAD and
// ranges read no more than they must), long files streamed, concurrent responses from pooled
// buffers, and directory confinement kept.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AbsolutePath,
  DirectoryStore,
  MemoryStore,
  type RangeQuery,
  ShardedStore,
  ZipStore,
} from "../src/node.js";
import { startZarrServer, type ZarrServer } from "../src/serve/server.js";
import { raw } from "./helpers/raw-request.js";

/** Whether two byte arrays are equal (toEqual walks megabytes element by element, slowly). */
function same(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** A DirectoryStore that counts the bytes read through it: the archive's reads, seen from outside. */
class CountingStore {
  bytes = 0;
  /** The longest single read. */
  longest = 0;
  readonly #inner: DirectoryStore;
  constructor(root: string) {
    this.#inner = new DirectoryStore(root);
  }
  async getRange(key: AbsolutePath, range: RangeQuery): Promise<Uint8Array | undefined> {
    const out = await this.#inner.getRange(key, range);
    this.bytes += out?.byteLength ?? 0;
    this.longest = Math.max(this.longest, out?.byteLength ?? 0);
    return out;
  }
  async size(key: AbsolutePath): Promise<number | undefined> {
    return (await stat(this.#inner.root + key)).size;
  }
  toString(): string {
    return "CountingStore";
  }
}

const BIG = 6 * 1024 * 1024 + 123; // past serve's 1 MiB whole-read limit, not a multiple of a read

let work: string;
let big: Uint8Array;
let small: Uint8Array;
let counting: CountingStore;
let composition: ShardedStore;
let server: ZarrServer;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "ss-serve-values-"));
  big = new Uint8Array(randomBytes(BIG));
  small = new Uint8Array(randomBytes(70_000));
  for (const compression of ["store", "deflate"] as const) {
    const zip = new ZipStore(path.join(work, `${compression}.zip`), { mode: "w", compression });
    await zip.set("/big/c/0", big);
    await zip.set("/small/c/0", small);
    await zip.close();
  }
  await mkdir(path.join(work, "dir", "big", "c"), { recursive: true });
  await writeFile(path.join(work, "dir", "big", "c", "0"), big);
  counting = new CountingStore(work);
  composition = new ShardedStore(new MemoryStore(), {
    shards: {
      stored: new ZipStore({ store: counting, key: "/store.zip" }),
      deflated: new ZipStore(path.join(work, "deflate.zip")),
      dir: new DirectoryStore(path.join(work, "dir")),
    },
  });
  server = await startZarrServer(composition);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await composition?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("serve: zip entries", () => {
  it("answers HEAD of a large stored entry from the central directory, reading none of its bytes", async () => {
    await raw(server.url, "/stored/small/c/0", { method: "HEAD" }); // the central directory is read once
    const before = counting.bytes;
    const r = await raw(server.url, "/stored/big/c/0", { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(r.headers["content-length"]).toBe(String(BIG));
    expect(r.headers.etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.body.byteLength).toBe(0);
    expect(counting.bytes - before).toBe(0);
    // The counter sees body reads: a GET reads the whole entry through it.
    const got = await raw(server.url, "/stored/big/c/0");
    expect(same(got.body, big), "bytes").toBe(true);
    expect(counting.bytes - before).toBeGreaterThanOrEqual(BIG);
  });

  it("streams a long stored entry in pieces, never reading it whole", async () => {
    counting.longest = 0;
    const got = await raw(server.url, "/stored/big/c/0", { headers: { Range: "bytes=10-" } });
    expect(got.status).toBe(206);
    expect(same(got.body, big.subarray(10)), "bytes").toBe(true);
    expect(counting.longest).toBeLessThanOrEqual(1 << 20);
    expect(counting.longest).toBeGreaterThan(0);
  });

  it("answers a range of a stored entry by reading only that range (plus its local header once)", async () => {
    await raw(server.url, "/stored/big/c/0", { headers: { Range: "bytes=0-0" } }); // learns where the data starts
    await fc.assert(
      fc.asyncProperty(fc.nat(BIG - 1), fc.nat(300_000), fc.boolean(), async (a, n, suffix) => {
        const header = suffix ? `bytes=-${n + 1}` : `bytes=${a}-${a + n}`;
        const start = suffix ? Math.max(0, BIG - (n + 1)) : a;
        const end = suffix ? BIG - 1 : Math.min(a + n, BIG - 1);
        const before = counting.bytes;
        const r = await raw(server.url, "/stored/big/c/0", { headers: { Range: header } });
        expect(r.status, header).toBe(206);
        expect(r.headers["content-range"], header).toBe(`bytes ${start}-${end}/${BIG}`);
        expect(same(r.body, big.subarray(start, end + 1)), header).toBe(true);
        expect(counting.bytes - before, header).toBe(end - start + 1);
      }),
      { numRuns: 40 },
    );
  });

  it("answers ranges, HEAD and 304 for deflated entries too", async () => {
    const head = await raw(server.url, "/deflated/small/c/0", { method: "HEAD" });
    expect(head.headers["content-length"]).toBe(String(small.byteLength));
    const r = await raw(server.url, "/deflated/small/c/0", { headers: { Range: "bytes=1000-1999" } });
    expect(r.status).toBe(206);
    expect(r.headers["content-range"]).toBe(`bytes 1000-1999/${small.byteLength}`);
    expect(same(r.body, small.subarray(1000, 2000)), "bytes").toBe(true);
    const etag = head.headers.etag as string;
    expect(
      (await raw(server.url, "/deflated/small/c/0", { headers: { "If-None-Match": etag } })).status,
    ).toBe(304);
    // The same entry with other bytes has another tag.
    const other = (await raw(server.url, "/deflated/big/c/0", { method: "HEAD" })).headers.etag;
    expect(other).not.toBe(etag);
  });

  it("answers 404 for a key the archive does not hold", async () => {
    expect((await raw(server.url, "/stored/big/c/1", { method: "HEAD" })).status).toBe(404);
    expect((await raw(server.url, "/deflated/nothing")).status).toBe(404);
  });
});

describe("serve: values kept as files", () => {
  it("streams a file longer than one read, whole and by ranges across read boundaries", async () => {
    const whole = await raw(server.url, "/dir/big/c/0");
    expect(whole.status).toBe(200);
    expect(whole.headers["content-length"]).toBe(String(BIG));
    expect(same(whole.body, big), "bytes").toBe(true);
    const mib = 1 << 20;
    for (const [a, b] of [
      [mib - 10, 3 * mib + 10],
      [0, BIG - 1],
      [BIG - 5, BIG - 1],
    ] as const) {
      const r = await raw(server.url, "/dir/big/c/0", { headers: { Range: `bytes=${a}-${b}` } });
      expect(r.status).toBe(206);
      expect(same(r.body, big.subarray(a, b + 1)), "bytes").toBe(true);
    }
  });

  it("sends the right bytes to many concurrent requests (each from its own pooled buffer)", async () => {
    const dir = path.join(work, "many");
    const values = Array.from({ length: 48 }, (_, i) => new Uint8Array(randomBytes(1000 + i * 5000)));
    await mkdir(dir, { recursive: true });
    await Promise.all(values.map((v, i) => writeFile(path.join(dir, String(i)), v)));
    const s = await startZarrServer(new DirectoryStore(dir), { concurrency: 8 });
    try {
      for (let round = 0; round < 3; round++) {
        const got = await Promise.all(values.map((_, i) => raw(s.url, `/${i}`)));
        got.forEach((r, i) => {
          expect(r.status, String(i)).toBe(200);
          expect(same(r.body, values[i]), String(i)).toBe(true);
        });
      }
    } finally {
      await s.close();
    }
  });

  it("keeps a confined directory store's refusal of symlinks leading out of its root", async () => {
    const root = path.join(work, "confined");
    const outside = path.join(work, "outside");
    await mkdir(root, { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, "secret"), "top secret");
    await writeFile(path.join(root, "inside"), "fine");
    await symlink(path.join(outside, "secret"), path.join(root, "leak"));
    const errors: string[] = [];
    const s = await startZarrServer(new DirectoryStore(root, { confine: true }), {
      onError: (k) => errors.push(k),
    });
    try {
      expect((await raw(s.url, "/inside")).body.toString()).toBe("fine");
      for (const method of ["GET", "HEAD"]) {
        const r = await raw(s.url, "/leak", { method });
        expect(r.status, method).toBe(502);
        expect(r.body.toString(), method).not.toMatch(/secret/);
      }
      expect(errors).toEqual(["/leak", "/leak"]);
    } finally {
      await s.close();
    }
  });
});
