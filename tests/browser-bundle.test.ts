import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ENTRY = path.join(ROOT, "dist/index.js");
const BUNDLE = path.join(ROOT, "dist/browser/shardedstore.js");
const PKG = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

const BUILTINS = new Set(builtinModules);
const isBuiltin = (spec: string) => spec.startsWith("node:") || BUILTINS.has(spec.split("/")[0] ?? spec);
const packageName = (spec: string) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");

/** Every import of every module reachable from `entry`, without following packages: `file → specifier`. */
async function importGraph(entry: string): Promise<{ from: string; spec: string; kind: string }[]> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "neutral",
    packages: "external",
    outdir: path.join(ROOT, ".graph-probe"),
    logLevel: "silent",
  });
  return Object.entries(result.metafile.inputs).flatMap(([from, input]) =>
    input.imports.filter((i) => i.external).map((i) => ({ from, spec: i.path, kind: i.kind })),
  );
}

beforeAll(() => {
  for (const f of [ENTRY, BUNDLE])
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
});

describe("the isomorphic entry (dist/index.js)", () => {
  it("reaches no Node builtin, statically or through import()", async () => {
    const graph = await importGraph(ENTRY);
    expect(graph.length).toBeGreaterThan(0);
    expect(graph.filter((i) => isBuiltin(i.spec)).map((i) => `${i.from} imports ${i.spec}`)).toEqual([]);
  });

  it("imports only packages that are runtime or peer dependencies", async () => {
    const allowed = new Set([
      ...Object.keys(PKG.dependencies ?? {}),
      ...Object.keys(PKG.peerDependencies ?? {}),
    ]);
    const bare = (await importGraph(ENTRY)).filter((i) => !isBuiltin(i.spec));
    expect(
      bare.filter((i) => !allowed.has(packageName(i.spec))).map((i) => `${i.from} imports ${i.spec}`),
    ).toEqual([]);
  });

  it("bundles for the browser (as users' bundlers do) with its dependencies, warning-free, without the optional AWS SDK", async () => {
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: [ENTRY],
      bundle: true,
      write: false,
      metafile: true,
      format: "esm",
      platform: "browser",
      external: ["zarrita"],
      outdir: path.join(ROOT, ".bundle-probe"),
      logLevel: "silent",
    });
    expect(result.warnings.map((w) => w.text)).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.includes("@aws-sdk/client-s3"))).toBe(false); // an optional peer: useS3Sdk()
    // esbuild fails a browser build on any Node builtin a package does not map away itself.
    expect(inputs.filter((f) => isBuiltin(f))).toEqual([]);
  });
});

describe("the browser bundle (dist/browser/shardedstore.js)", () => {
  it("leaves only zarrita and the lazily loaded AWS SDK to the page", async () => {
    const external = new Set((await importGraph(BUNDLE)).map((i) => i.spec));
    expect([...external].filter((s) => s !== "zarrita" && s !== "@aws-sdk/client-s3")).toEqual([]);
  });

  it("exports what dist/index.js exports", async () => {
    const [bundle, entry] = await Promise.all([
      import(pathToFileURL(BUNDLE).href) as Promise<Record<string, unknown>>,
      import(pathToFileURL(ENTRY).href) as Promise<Record<string, unknown>>,
    ]);
    expect(Object.keys(bundle).sort()).toEqual(Object.keys(entry).sort());
  });

  it("keeps the store-type registrations a config needs (not tree-shaken away)", async () => {
    const lib = (await import(pathToFileURL(BUNDLE).href)) as typeof import("../src/index.js");
    const base = new lib.MemoryStore();
    await base.set("/.zgroup", new TextEncoder().encode('{"zarr_format":2}'));
    const store = new lib.ShardedStore(base, {
      shards: { remote: new lib.FetchStore("https://example.com/a.zarr") },
    });
    const again = lib.ShardedStore.fromConfig(JSON.parse(JSON.stringify(store.toConfig())));
    expect(new TextDecoder().decode(await again.get("/.zgroup"))).toBe('{"zarr_format":2}');
    const r = again.resolve("/remote/x/.zarray");
    expect(r.store).toBeInstanceOf(lib.FetchStore);
    expect((r.store as InstanceType<typeof lib.FetchStore>).url).toBe("https://example.com/a.zarr");
  });
});
