// Remote reads: FetchStore.getRange (every answer checked, under the timeout/retry/concurrency
// policy) vs bare fetch with a Range header, against one local HTTP server, same requests.
import { createServer } from "node:http";
import { FetchStore } from "../dist/index.js";
import { compare, figure, pool } from "./measure.mjs";

const SIZE = 1 << 20;
const READS = 2000;
const LENGTH = 4096;
const CALLERS = 16;

export async function run() {
  const data = Buffer.alloc(SIZE, 7);
  const server = createServer((req, res) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    if (!m) return res.writeHead(200, { "Content-Length": SIZE }).end(data);
    const s = Number(m[1]);
    const e = Math.min(SIZE - 1, Number(m[2]));
    res
      .writeHead(206, { "Content-Length": e - s + 1, "Content-Range": `bytes ${s}-${e}/${SIZE}` })
      .end(data.subarray(s, e + 1));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const offsets = Array.from({ length: READS }, (_, i) => ((i * 7919) % (SIZE / LENGTH)) * LENGTH);
  let sink = 0;
  try {
    const store = new FetchStore(url, { concurrency: CALLERS });
    const res = await compare({
      ours: {
        run: () =>
          pool(offsets, CALLERS, async (o) => {
            sink += (await store.getRange("/blob", { offset: o, length: LENGTH })).length;
          }),
      },
      baseline: {
        run: () =>
          pool(offsets, CALLERS, async (o) => {
            const r = await fetch(`${url}/blob`, { headers: { Range: `bytes=${o}-${o + LENGTH - 1}` } });
            sink += (await r.arrayBuffer()).byteLength;
          }),
      },
    });
    if (sink === 0) throw new Error("nothing read");
    return {
      figures: [
        figure({
          section: "Remote",
          name: `FetchStore.getRange, ${READS} × 4 KiB, ${CALLERS} at a time (checked, with the policy)`,
          kind: "time",
          unit: "reads",
          work: READS,
          ours: res.ours,
          baseline: res.baseline,
          target: 1.2,
          baselineName: "fetch + Range header, unchecked",
        }),
      ],
    };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
