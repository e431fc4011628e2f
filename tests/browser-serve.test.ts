import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openShardedStore, type ShardedStore } from "../src/node.js";
import { startZarrServer, type ZarrServer } from "../src/serve/server.js";
import { type BrowserServer, startBrowserServer } from "./helpers/browser-server.js";

// Debian's Chromium, driven by playwright-core (which never downloads a browser).
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"];
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SEED = fileURLToPath(new URL("./fixtures/python-seed/", import.meta.url));
type Values = Record<string, { dtype: string; shape: number[]; values: unknown }>;
const VALUES = JSON.parse(readFileSync(`${SEED}slash/values.json`, "utf8")) as Values;

let dir: string;
let bundle: string;
let page: BrowserServer;
let browser: Browser | undefined;
let tab: Page;
let store: ShardedStore;
let withCors: ZarrServer;
let withoutCors: ZarrServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ss-browser-serve-"));
  // zarrita alone, bundled: the page holds no shardedstore code at all.
  const built = await esbuild.build({
    stdin: { contents: 'export * from "zarrita";', resolveDir: ROOT, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
  });
  bundle = built.outputFiles[0]!.text;
  await writeFile(path.join(dir, "zarrita.js"), bundle);
  page = await startBrowserServer({
    mounts: { "/bundle/": dir },
    imports: { zarrita: "/bundle/zarrita.js" },
  });
  store = await openShardedStore(path.join(SEED, "slash", "config.json"));
  withCors = await startZarrServer(store, { cors: "*" });
  withoutCors = await startZarrServer(store);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  tab = await browser.newPage();
  await tab.goto(`${page.url}/`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await page?.close();
  await withCors?.close();
  await withoutCors?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Reads arrays with zarrita's own FetchStore in the page, from another origin (the serve port). */
function readInPage(
  url: string,
  names: string[],
): Promise<Record<string, { shape: number[]; data: number[] } | string>> {
  const code = `(async () => {
    const zarr = await import("zarrita");
    const store = new zarr.FetchStore(${JSON.stringify(url)});
    const out = {};
    for (const name of ${JSON.stringify(names)}) {
      try {
        const arr = await zarr.open(zarr.root(store).resolve(name), { kind: "array" });
        const got = await zarr.get(arr);
        out[name] = { shape: got.shape, data: Array.from(got.data, Number) };
      } catch (e) {
        out[name] = String(e);
      }
    }
    return out;
  })()`;
  return tab.evaluate(code) as Promise<Record<string, { shape: number[]; data: number[] } | string>>;
}

describe("serve read from Chromium by zarrita alone", () => {
  it("reads sharded arrays of the original's v2 composition across origins, with --cors", async () => {
    expect(bundle).not.toMatch(/ShardedStore|shardedstore/);
    const names = ["simulation/fine/foo", "simulation/coarse/foo", "observations/stations/temperature"];
    const got = await readInPage(withCors.url.slice(0, -1), names);
    for (const name of names) {
      const want = VALUES[name]!;
      const r = got[name];
      expect(typeof r, `${name}: ${String(r)}`).toBe("object");
      const { shape, data } = r as { shape: number[]; data: number[] };
      expect(shape, name).toEqual(want.shape);
      expect(data, name).toEqual((want.values as unknown[]).flat(4));
    }
    // The page loaded nothing but itself and the zarrita bundle (and the browser's own favicon probe).
    const loaded = new Set(page.requests.map((q) => q.path).filter((p) => p !== "/favicon.ico"));
    expect([...loaded].sort()).toEqual(["/", "/bundle/zarrita.js"]);
    expect(await tab.evaluate("navigator.userAgent")).toMatch(/HeadlessChrome/);
  });

  it("is refused by the browser without --cors (a different origin)", async () => {
    const got = await readInPage(withoutCors.url.slice(0, -1), ["simulation/fine/foo"]);
    expect(got["simulation/fine/foo"]).toMatch(/fetch|Failed/i);
  });
});
