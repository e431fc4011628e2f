// Memory an open zip archive keeps once its directory was read (issue 11 item 2: ≤ 100 bytes per
// entry plus its name), and what archives evicted from the pool keep (nothing but the store object).
// Archives of E entries (chunk-like names "c/<i>.<j>"), A copies, each listed through its own
// ZipStore — once through a pool with room for all of them (every archive stays open; 800 archives
// at most, so that all can be open under `ulimit -n 1024`), once through a pool of 16 (open ones and
// the last 4 × 16 evicted keep their indexes, older evicted ones nothing); heap + external memory
// after a full GC, minus
// the same before listing.
// Beside it, in the same process: the names alone (the same strings kept in arrays), so "per entry
// without the name" = (index − names) / entries.
// Run: npm run build && node --expose-gc bench/scale-zip-memory.mjs
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ZipFilePool, ZipStore } from "shardedstore/node";

if (typeof gc !== "function") throw new Error("run with node --expose-gc");
const root = path.join(tmpdir(), `ss-zip-memory-${process.pid}`);
const used = () => {
  gc();
  gc();
  const u = process.memoryUsage();
  return u.heapUsed + u.external;
};

async function measure(entries, archives) {
  const dir = path.join(root, String(entries));
  mkdirSync(dir, { recursive: true });
  const template = path.join(dir, "t.zip");
  const z = new ZipStore(template, { mode: "w" });
  for (let i = 0; i < entries; i++) await z.set(`/c/${i % 100}.${Math.floor(i / 100)}`, new Uint8Array(1));
  await z.close();
  const bytes = readFileSync(template);
  for (let a = 0; a < archives; a++) writeFileSync(path.join(dir, `${a}.zip`), bytes);
  /** Lists every archive through its own store on `pool`: the stores, keys listed and memory growth. */
  const listAll = async (pool) => {
    const all = Array.from(
      { length: archives },
      (_, a) => new ZipStore(path.join(dir, `${a}.zip`), { pool }),
    );
    const before = used();
    let listed = 0;
    for (const s of all) for await (const _ of s.list()) listed++;
    return { all, listed, grew: used() - before };
  };
  const roomy = new ZipFilePool({ maxOpen: archives + 1 });
  const { all: stores, listed: keys, grew: index } = await listAll(roomy);
  // The same archives listed through a small pool: what evicted archives keep.
  const small = new ZipFilePool({ maxOpen: 16 });
  const { all: evicting, listed: evictedKeys, grew: evictedGrew } = await listAll(small);
  if (evictedKeys !== keys)
    throw new Error(`listed ${evictedKeys} keys through a pool of 16, ${keys} before`);
  const evictions = small.stats().evictions;
  // The baseline: the same names, decoded the same way, kept in one array per archive.
  const decoder = new TextDecoder();
  const names = [];
  const m2 = used();
  for (let a = 0; a < archives; a++) {
    const own = [];
    for (let i = 0; i < entries; i++)
      own.push(decoder.decode(new TextEncoder().encode(`c/${i % 100}.${Math.floor(i / 100)}`)));
    names.push(own);
  }
  const m3 = used();
  const nameBytes = m3 - m2;
  const out = {
    entries,
    archives,
    keys,
    perArchive: Math.round(index / archives),
    perEntry: Math.round(index / keys),
    namesPerEntry: Math.round(nameBytes / keys),
    perEntryWithoutName: Math.round((index - nameBytes) / keys),
    poolOpen: roomy.stats().open,
    evictedPerArchive: Math.round(evictedGrew / archives),
    evictions,
    smallOpen: small.stats().open,
    keptIfWindow: Math.min(archives, small.stats().open + 4 * small.maxOpen),
  };
  await Promise.all([...stores, ...evicting].map((s) => s.close()));
  if (names.length !== archives) throw new Error("unreachable");
  return out;
}

try {
  for (const [e, a] of [
    [2, 800],
    [1000, 200],
  ]) {
    const r = await measure(e, a);
    console.log(
      `${r.archives.toLocaleString("en")} archives of ${r.entries} entries, listed, all open: ${r.perArchive} B per archive, ${r.perEntry} B per entry; the names alone ${r.namesPerEntry} B per entry, so ${r.perEntryWithoutName} B per entry without the name (target ≤ 100); pool holds ${r.poolOpen} descriptors`,
    );
    console.log(
      `  the same through a pool of 16 (${r.smallOpen} open, ${r.evictions.toLocaleString("en")} evictions): ${r.evictedPerArchive} B per archive = ${(r.evictedPerArchive / r.perArchive).toFixed(3)}× an open one; if only the open and the last 64 evicted keep their indexes, ${r.keptIfWindow}/${r.archives} = ${(r.keptIfWindow / r.archives).toFixed(3)}×`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
