// A page script for a strict Content-Security-Policy (`script-src 'self'`): bundled with zarrita by
// the Chromium test, loaded by a page with no inline script. It opens the composition whose
// config URL is in the page's `#hash`, reads the arrays named in `?names=`, and leaves the result
// in `window.__cspResult` (or `window.__cspError`).
import { openShardedStore } from "../../dist/index.js";
import { readArray } from "../helpers/arrays.js";

const violations: string[] = [];
document.addEventListener("securitypolicyviolation", (e) =>
  violations.push(`${e.violatedDirective} ${e.blockedURI}`),
);

async function main(): Promise<void> {
  const url = decodeURIComponent(location.hash.slice(1));
  const names = (new URLSearchParams(location.search).get("names") ?? "").split(",");
  const store = await openShardedStore(url);
  const values: Record<string, unknown> = {};
  for (const name of names) values[name] = await readArray(store, name);
  const before = [...violations];
  // The policy is really in force: code built from strings is refused here.
  let evalBlocked = false;
  try {
    new Function("return 1")();
  } catch (e) {
    evalBlocked = e instanceof EvalError;
  }
  (window as unknown as { __cspResult: unknown }).__cspResult = { values, violations: before, evalBlocked };
}

main().catch((e: unknown) => {
  (window as unknown as { __cspError: string }).__cspError = String(e);
});
