// Serve: zarrita reading a 16×512×512 float32 array (64 chunks of 256 KiB, no compression) over HTTP
// from `shardedstore serve` (a child process) vs zarrita reading the same composition in-process.
//
// What limits the ratio is measured in the same run, beside it:
// - the client: zarrita's FetchStore on Node's global fetch (undici) spends several times the CPU of
//   the whole in-process read on HTTP alone. The same FetchStore is also run with a `fetch` over
//   `node:http` and a keep-alive agent (a lighter client; zarrita's own `fetch` option).
// - an upper bound for any node:http server: a child process answering every key from memory
//   (preloaded Buffers, no store, no file reads), read by the same two clients.
// - Python's `http.server` (ThreadingHTTPServer, HTTP/1.0: a connection per request) serving
//   single.zarr. Its listen backlog is raised from 5 to 128: with 5, zarrita's 64 concurrent requests
//   overflow it and the figure measures TCP SYN retransmission timeouts (~1 MB/s), not http.server.
// Client and server share this machine's cores (two processes); the CPU each used per read of the
// array is printed, so a reader sees which side is the bottleneck.
import { spawn } from "node:child_process";
import { mkdtemp, readFile as readFileAsync, rm } from "node:fs/promises";
import * as http from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ShardedStore } from "shardedstore";
import {
  arrayShardDirectoryStore,
  DirectoryStore,
  openShardedStore,
  saveShardedStore,
} from "shardedstore/node";
import * as zarr from "zarrita";
import { compare, figure } from "./measure.mjs";

const SHAPE = [16, 512, 512];
const CHUNKS = [1, 256, 256];
const BYTES = SHAPE.reduce((a, b) => a * b, 4);
const BIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

// The upper bound: node:http answering from memory, nothing else (run as `node -e`).
const MEMORY_SERVER = `
import { createServer } from "node:http";
import { readdir, readFile } from "node:fs/promises";
import * as path from "node:path";
const root = process.argv[1];
const values = new Map();
for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
  if (!e.isFile()) continue;
  const file = path.join(e.parentPath ?? e.path, e.name);
  values.set("/" + path.relative(root, file).split(path.sep).join("/"), await readFile(file));
}
const server = createServer({ keepAliveTimeout: 30000 }, (req, res) => {
  const v = values.get(req.url);
  if (v === undefined) res.writeHead(404, { "Content-Length": 0 }).end();
  else res.writeHead(200, { "Content-Length": v.length, "Content-Type": "application/octet-stream" }).end(v);
});
server.listen(0, "127.0.0.1", () => console.log("memory server at http://127.0.0.1:" + server.address().port + "/"));
`;

// Python's http.server as \`python3 -m http.server\` runs it, with a listen backlog of 128.
const PYTHON_SERVER = `
import functools, http.server as h, sys
h.ThreadingHTTPServer.request_queue_size = 128
h.test(HandlerClass=functools.partial(h.SimpleHTTPRequestHandler, directory=sys.argv[1]),
       ServerClass=h.ThreadingHTTPServer, port=0, bind="127.0.0.1")
`;

async function write(store) {
  const arr = await zarr.create(zarr.root(store).resolve("data/x"), {
    shape: SHAPE,
    chunkShape: CHUNKS,
    dtype: "float32",
  });
  const data = new Float32Array(BYTES / 4);
  for (let i = 0; i < data.length; i++) data[i] = (i % 1000) * 0.5;
  await zarr.set(arr, null, { data, shape: SHAPE, stride: [SHAPE[1] * SHAPE[2], SHAPE[2], 1] });
}

async function readAll(store) {
  const arr = await zarr.open(zarr.root(store).resolve("data/x"), { kind: "array" });
  const out = await zarr.get(arr);
  if (out.data.length !== BYTES / 4) throw new Error("short read");
}

/** Starts a server process and resolves with the URL it announces on stdout or stderr. */
function startProcess(cmd, args, pattern) {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d) => {
      text += d;
      const m = pattern.exec(text);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${cmd} exited with ${code}: ${text}`)));
  });
}

/** CPU milliseconds (user + system) a process has used, from /proc (0 where there is none). */
async function cpuMs(pid) {
  try {
    const fields = (await readFileAsync(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * A `fetch` for zarrita's FetchStore over node:http with a keep-alive agent. A request that meets
 * a kept-alive connection the server just closed is sent again once (as Node's docs advise).
 */
function agentFetch(agent) {
  const once = (request) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        request.url,
        { method: request.method, headers: Object.fromEntries(request.headers), agent },
        (res) => {
          const parts = [];
          res.on("data", (c) => parts.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const headers = Object.entries(res.headers).filter(([, v]) => typeof v === "string");
            const body = res.statusCode === 304 ? null : Buffer.concat(parts);
            resolve(new Response(body, { status: res.statusCode, headers }));
          });
        },
      );
      req.on("error", (e) => {
        e.reused = req.reusedSocket;
        reject(e);
      });
      req.end();
    });
  return (request) => once(request).catch((e) => (e.reused ? once(request) : Promise.reject(e)));
}

export async function run() {
  const tmp = await mkdtemp(path.join(tmpdir(), "ss-bench-serve-"));
  const children = [];
  const agent = new http.Agent({ keepAlive: true });
  try {
    const config = path.join(tmp, "composition.json");
    const sharded = new ShardedStore(new DirectoryStore(`${tmp}/base.zarr`), {
      arrayShards: { "data/x": { dims: 1, factory: arrayShardDirectoryStore(`${tmp}/shards/x`) } },
    });
    await write(sharded);
    await saveShardedStore(sharded, config);
    await write(new DirectoryStore(`${tmp}/single.zarr`));

    const serve = await startProcess(
      process.execPath,
      [BIN, "serve", config, "--port", "0"],
      /at (http:\/\/\S+\/)/,
    );
    children.push(serve.child);
    const memory = await startProcess(
      process.execPath,
      ["--input-type=module", "-e", MEMORY_SERVER, `${tmp}/single.zarr`],
      /at (http:\/\/\S+\/)/,
    );
    children.push(memory.child);
    const py = await startProcess(
      "python3",
      ["-u", "-c", PYTHON_SERVER, `${tmp}/single.zarr`],
      /Serving HTTP on \S+ port (\d+)/,
    );
    children.push(py.child);
    const local = await openShardedStore(config);
    const pyStore = new zarr.FetchStore(`http://127.0.0.1:${py.url}`);
    let pyRetries = 0;
    const python = {
      get: (key, opts) =>
        pyStore.get(key, opts).catch(() => {
          pyRetries++;
          return pyStore.get(key, opts);
        }),
    };
    const light = { fetch: agentFetch(agent) };
    const servers = { serve: serve.child.pid, memory: memory.child.pid, python: py.child.pid };

    const variants = {
      inProcess: { run: () => readAll(local) },
      serve: { run: () => readAll(new zarr.FetchStore(serve.url)) },
      memory: { run: () => readAll(new zarr.FetchStore(memory.url)) },
      serveLight: { run: () => readAll(new zarr.FetchStore(serve.url, light)) },
      memoryLight: { run: () => readAll(new zarr.FetchStore(memory.url, light)) },
      python: { run: () => readAll(python) },
    };
    // CPU used per run by this process (the client) and by each server process.
    const cpu = {};
    for (const [name, v] of Object.entries(variants)) {
      const acc = { runs: 0, client: 0, server: 0 };
      cpu[name] = acc;
      const server = { serve: "serve", serveLight: "serve", memory: "memory", memoryLight: "memory" }[name];
      const pid = server ? servers[server] : name === "python" ? servers.python : undefined;
      const inner = v.run;
      v.run = async () => {
        const c0 = process.cpuUsage();
        const s0 = pid ? await cpuMs(pid) : 0;
        await inner();
        const c = process.cpuUsage(c0);
        acc.server += pid ? (await cpuMs(pid)) - s0 : 0;
        acc.client += (c.user + c.system) / 1000;
        acc.runs++;
      };
    }
    const res = await compare(variants);

    const common = { section: "Serve", kind: "speed", unit: "B", work: BYTES };
    const inProcess = "zarrita reading the composition in-process";
    const figures = [
      figure({
        ...common,
        name: "zarrita FetchStore (global fetch) over HTTP from `shardedstore serve`, 256 KiB chunks of a local composition",
        ours: res.serve,
        baseline: res.inProcess,
        baselineName: inProcess,
        target: 0.5,
      }),
      figure({
        ...common,
        name: "upper bound: the same client from a node:http server answering from memory",
        ours: res.memory,
        baseline: res.inProcess,
        baselineName: inProcess,
        target: 0.5,
      }),
      figure({
        ...common,
        name: "zarrita FetchStore (fetch over node:http, keep-alive agent) from `shardedstore serve`",
        ours: res.serveLight,
        baseline: res.inProcess,
        baselineName: inProcess,
        target: 0.5,
      }),
      figure({
        ...common,
        name: "upper bound: the node:http client from the node:http server answering from memory",
        ours: res.memoryLight,
        baseline: res.inProcess,
        baselineName: inProcess,
        target: 0.5,
      }),
      figure({
        ...common,
        name: "`shardedstore serve` vs the in-memory node:http server, node:http client (server efficiency)",
        ours: res.serveLight,
        baseline: res.memoryLight,
        baselineName: "node:http server answering from memory",
        target: 0.8,
      }),
      figure({
        ...common,
        name: "zarrita FetchStore (global fetch) from `shardedstore serve` vs from Python's http.server",
        ours: res.serve,
        baseline: res.python,
        baselineName: "zarrita FetchStore from Python's http.server serving single.zarr",
        target: 1.0001,
      }),
    ];
    const ms = (x) => x.toFixed(0);
    const table = [
      "### Serve: CPU per read of the 16 MiB array (client = the reading process, server = the serving process)",
      "",
      "| variant | median wall | client CPU | server CPU |",
      "| --- | ---: | ---: | ---: |",
      ...Object.entries(cpu).map(
        ([name, c]) =>
          `| ${name} | ${ms(res[name].median / 1e6)} ms | ${ms(c.client / c.runs)} ms | ${name === "inProcess" ? "–" : `${ms(c.server / c.runs)} ms`} |`,
      ),
      "",
      `Python requests retried after a connection error: ${pyRetries}.`,
    ];
    for (const line of table) console.log(line);
    return { figures, tables: table };
  } finally {
    agent.destroy();
    for (const c of children) c.kill("SIGTERM");
    await rm(tmp, { recursive: true, force: true });
  }
}
