import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decoded } from "./helpers/arrays.js";
import { type BrowserServer, nodeModulesImportMap, startBrowserServer } from "./helpers/browser-server.js";
import { arrayPaths, readReference, writeDemo } from "./helpers/demo-folder.js";
import { python } from "./helpers/python.js";

// Debian's Chromium, driven by playwright-core (which never downloads a browser).
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SEED = fileURLToPath(new URL("./fixtures/python-seed/", import.meta.url));
const BUNDLE = path.join(ROOT, "dist/browser/shardedstore.js");

type Values = Record<string, { dtype: string; shape: number[]; values: unknown }>;
const VALUES = JSON.parse(readFileSync(`${SEED}slash/values.json`, "utf8")) as Values;
const NAMES = Object.keys(VALUES);

let server: BrowserServer;
let browser: Browser | undefined;
let page: Page;
let dataDir: string;
let demoNames: string[];
let demoReference: Record<string, Decoded>;
const pageErrors: string[] = [];

/** Runs `scenarios[name](shardedstore, ...args)` in the page; the module graph loads through the import map. */
async function run<T>(name: string, ...args: unknown[]): Promise<T> {
  // A string, so the test runner's transform cannot rewrite the page-side `import()`.
  const code = `(async () => {
    const lib = await import("shardedstore");
    const scenarios = await import("/tests/browser/scenarios.js");
    return scenarios[${JSON.stringify(name)}](lib, ...${JSON.stringify(args)});
  })()`;
  return (await page.evaluate(code)) as T;
}

/** The Python original's config with every DirectoryStore replaced by zarr's FSStore over our server. */
function configOverHttp(flavour: string): unknown {
  const base = `${server.url}/fixtures/${flavour}/`;
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (typeof v !== "object" || v === null) return v;
    const o = v as Record<string, unknown>;
    if (o.name === "DirectoryStore") {
      const arg = (o.config as { args: string[] }).args[0];
      return {
        name: "FSStore",
        module: "zarr.storage",
        config: { args: [base + arg], kwargs: { mode: "r" } },
      };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, rewrite(x)]));
  };
  return rewrite(JSON.parse(readFileSync(`${SEED}${flavour}/config.json`, "utf8")));
}

function expectValues(got: Record<string, Decoded>): void {
  expect(Object.keys(got).sort()).toEqual([...NAMES].sort());
  for (const [name, want] of Object.entries(VALUES)) {
    expect(got[name]?.shape, name).toEqual(want.shape);
    expect(got[name]?.values, name).toEqual(want.values);
  }
}

beforeAll(async () => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  dataDir = await mkdtemp(path.join(tmpdir(), "ss-browser-"));
  // zarr-python's ZipStore writes the zip; 2 MiB of padding makes a whole-file download stand out.
  await python(
    `import os, sys, zarr, zipfile
src = zarr.DirectoryStore(sys.argv[1])
dst = zarr.ZipStore(sys.argv[2], mode="w", compression=zipfile.ZIP_DEFLATED)
zarr.copy_store(src, dst)
dst["padding/blob"] = os.urandom(2 << 20)
dst.close()`,
    `${SEED}slash/single.zarr`,
    path.join(dataDir, "single.zarr.zip"),
  );
  // A composition exactly as the CLI writes it (directory shards and zip shards), served unmodified.
  await writeDemo(path.join(dataDir, "demo"));
  demoNames = await arrayPaths(path.join(dataDir, "demo/single.zarr"));
  demoReference = await readReference(path.join(dataDir, "demo/single.zarr"));
  // The strict-CSP page's script: zarrita and the built package in one file served from 'self'.
  await esbuild.build({
    entryPoints: [path.join(ROOT, "tests/browser/csp-app.ts")],
    outfile: path.join(dataDir, "csp-app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // Both only reached through import() on paths this page never takes (S3, a test helper's fs).
    external: ["@aws-sdk/client-s3", "node:*"],
    logLevel: "error",
  });
  const imports = {
    ...(await nodeModulesImportMap("zarrita", path.join(ROOT, "node_modules"), "/node_modules/")),
    shardedstore: "/dist/browser/shardedstore.js",
  };
  server = await startBrowserServer({
    mounts: {
      "/dist/": path.join(ROOT, "dist"),
      "/node_modules/": path.join(ROOT, "node_modules"),
      "/tests/": path.join(ROOT, "tests"),
      "/fixtures/": SEED,
      "/data/": dataDir,
    },
    imports,
    pages: {
      "/csp.html": {
        html: '<!doctype html>\n<html><head><meta charset="utf-8"><script type="module" src="/data/csp-app.js"></script></head><body></body></html>\n',
        headers: { "Content-Security-Policy": "script-src 'self'" },
      },
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${server.url}/`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("shardedstore in Chromium (dist/browser/shardedstore.js, zarrita from node_modules)", () => {
  it("runs in a real browser page, not in Node", async () => {
    const ua = await page.evaluate("navigator.userAgent");
    expect(ua).toMatch(/HeadlessChrome/);
    expect(await page.evaluate("typeof process")).toBe("undefined");
  });

  it("writes and reads a ShardedStore over MemoryStores with zarrita (group shard and array shard)", async () => {
    const names = [7, -3, 11, 42];
    const raw = Array.from({ length: 60 }, (_, i) => i * 0.5 - 10);
    const r = await run<import("./browser/scenarios.js").RoundTripResult>("memoryRoundTrip", { names, raw });
    expect(r.userAgent).toMatch(/HeadlessChrome/);
    const loaded = server.requests.map((q) => q.path);
    expect(loaded).toContain("/dist/browser/shardedstore.js");
    expect(loaded).toContain("/node_modules/zarrita/dist/src/index.js");
    expect(loaded.filter((p) => p.startsWith("/src/") || p === "/dist/index.js")).toEqual([]);
    expect(r.names).toEqual({ dtype: "int32", shape: [4], values: names });
    expect(r.raw.shape).toEqual([3, 4, 5]);
    expect((r.raw.values as number[][][]).flat(2)).toEqual(raw);

    // One index store per leading chunk index, created through the factory.
    expect(r.created).toEqual([[0], [1], [2]]);
    const chunks = [0, 1, 2].flatMap((i) => [`/images/raw/c/${i}/0/0`, `/images/raw/c/${i}/1/0`]);
    expect(r.keys).toEqual(
      [
        "/zarr.json",
        "/images/zarr.json",
        "/images/raw/zarr.json",
        ...chunks,
        "/labels/zarr.json",
        "/labels/names/zarr.json",
        "/labels/names/c/0",
        "/labels/names/c/1",
      ].sort(),
    );
    // The group shard holds its keys with the mount stripped; chunks of images/raw are not in the base.
    expect(r.labelKeys).toEqual(["/names/c/0", "/names/c/1", "/names/zarr.json", "/zarr.json"]);
    expect(r.baseKeys).toEqual(["/images/raw/zarr.json", "/images/zarr.json", "/zarr.json"]);
    expect(r.shardKeys["2"]).toEqual(expect.arrayContaining(["/c/0/0", "/c/1/0"]));

    expect(r.resolveGroup).toEqual({
      isLabels: true,
      key: "/names/zarr.json",
      mount: "labels",
      kind: "group",
    });
    expect(r.resolveChunk).toEqual({
      isShard2: true,
      key: "/c/1/0",
      mount: "images/raw",
      kind: "array",
      index: [2],
    });
  });

  it("reads the Python fixture's single.zarr (Zarr v2) over HTTP with zarrita's own FetchStore", async () => {
    expectValues(await run("readArrays", "zarrita-fetch", `${server.url}/fixtures/slash/single.zarr`, NAMES));
  });

  it("reads the Python fixture's single.zarr (Zarr v2) over HTTP with our FetchStore", async () => {
    expectValues(await run("readArrays", "fetch", `${server.url}/fixtures/slash/single.zarr`, NAMES));
  });

  it("reads the fixture through a FetchStore mounted as a group shard of a ShardedStore", async () => {
    expectValues(
      await run("readArrays", "fetch-group-shard", `${server.url}/fixtures/slash/single.zarr`, NAMES),
    );
  });

  for (const flavour of ["slash", "dot"]) {
    it(`reads the Python original's sharded ${flavour} composition from its config, every store over HTTP`, async () => {
      const config = configOverHttp(flavour);
      expectValues(await run("readArrays", "config", "", NAMES, config));
    });
  }

  for (const flavour of ["slash", "dot"]) {
    it(`opens the Python original's ${flavour} config.json, unmodified, from its URL`, async () => {
      expectValues(
        await run("readArrays", "open-url", `${server.url}/fixtures/${flavour}/config.json`, NAMES),
      );
    });
  }

  it("routes every key of the Python original's routing.json to the same store and inner key", async () => {
    const routing = JSON.parse(readFileSync(`${SEED}slash/routing.json`, "utf8")) as {
      key: string;
      store: string;
      store_key: string;
    }[];
    const got = await run<{ key: string; url: string | undefined; innerKey: string }[]>(
      "routesFromConfig",
      configOverHttp("slash"),
      routing.map((e) => `/${e.key}`),
    );
    expect(got.map((g) => ({ key: g.key, url: g.url, innerKey: g.innerKey }))).toEqual(
      routing.map((e) => ({
        key: `/${e.key}`,
        url: `${server.url}/fixtures/slash/${e.store}`,
        innerKey: `/${e.store_key}`,
      })),
    );
  });

  it("reads a zarr-python zip over HTTP with ZipStore by range requests, never the whole file", async () => {
    const zipPath = "/data/single.zarr.zip";
    const size = (await stat(path.join(dataDir, "single.zarr.zip"))).size;
    const from = server.requests.length;
    expectValues(await run("readArrays", "zip", `${server.url}${zipPath}`, NAMES));
    const zipRequests = server.requests.slice(from).filter((r) => r.path === zipPath);
    expect(zipRequests.length).toBeGreaterThan(0);
    // A byte range, or a suffix (the archive's tail, read once on open): never the whole file.
    for (const r of zipRequests) {
      expect(r.range, `${r.method} ${r.path}`).toMatch(/^bytes=(\d+-\d+|-\d+)$/);
      expect(r.status).toBe(206);
    }
    const served = zipRequests.reduce((n, r) => n + r.bytes, 0);
    expect(served).toBeLessThan(size / 4);
  });

  for (const flavour of ["sharded", "zip"] as const) {
    it(`opens the CLI's ${flavour}/composition.json, unmodified, from its URL and reads every array equal to single.zarr`, async () => {
      const url = `${server.url}/data/demo/${flavour}/composition.json`;
      expect(demoNames.length).toBeGreaterThanOrEqual(5);
      expect(await run("readArrays", "open-url", url, demoNames)).toEqual(demoReference);
      expect(await run("storeKindsOfUrl", url)).toEqual([flavour === "zip" ? "ZipStore" : "FetchStore"]);
    });
  }

  it("opens a config and reads arrays on a page whose Content-Security-Policy is script-src 'self'", async () => {
    const cspPage = await (browser as Browser).newPage();
    const errors: string[] = [];
    cspPage.on("pageerror", (e) => errors.push(String(e)));
    try {
      const config = `${server.url}/data/demo/zip/composition.json`;
      const names = demoNames.join(",");
      await cspPage.goto(
        `${server.url}/csp.html?names=${encodeURIComponent(names)}#${encodeURIComponent(config)}`,
      );
      // Polled with evaluate (devtools evaluation is exempt from the page's CSP; waitForFunction is not).
      for (let i = 0; i < 300; i++) {
        if (await cspPage.evaluate("window.__cspResult !== undefined || window.__cspError !== undefined"))
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await cspPage.evaluate("window.__cspError")).toBeUndefined();
      const r = (await cspPage.evaluate("window.__cspResult")) as {
        values: Record<string, Decoded>;
        violations: string[];
        evalBlocked: boolean;
      };
      expect(r.evalBlocked).toBe(true);
      expect(r.violations).toEqual([]);
      expect(r.values).toEqual(demoReference);
      expect(errors).toEqual([]);
    } finally {
      await cspPage.close();
    }
  });

  it("raised no uncaught errors in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
