import { tensorstorePython } from "./python.js";

/** What tensorstore read: each array's values through the spec and from the reference, and the keys. */
export interface TensorstoreRead {
  arrays: Record<
    string,
    { got?: unknown; want?: unknown; shape?: number[]; error?: string; unreadable?: string }
  >;
  /** The kvstore's key listing, sorted (when asked for). */
  keys?: string[];
}

// Reads every array twice with tensorstore (through `spec`, and from a reference kvstore) and
// optionally lists `spec`; values as JSON (bytes as text, NaN as null).
const SCRIPT = `
import json, sys, math
import numpy as np
import tensorstore as ts
req = json.loads(sys.stdin.read())
def plain(a):
    def fix(x):
        if isinstance(x, bytes): return x.decode()
        if isinstance(x, float) and math.isnan(x): return None
        if isinstance(x, list): return [fix(y) for y in x]
        return x
    return fix(np.asarray(a).tolist())
out = {"arrays": {}}
for a in req["arrays"]:
    try:
        want = ts.open({"driver": a["driver"], "kvstore": a["ref"], "open": True}).result()
    except ValueError as e:
        # tensorstore cannot read this array even from the reference (e.g. numpy "<U5" strings)
        out["arrays"][a["path"]] = {"unreadable": str(e).split(" [")[0][:300]}
        continue
    try:
        got = ts.open({"driver": a["driver"], "kvstore": {**req["spec"], "path": a["path"] + "/"}, "open": True}).result()
        out["arrays"][a["path"]] = {"got": plain(got.read().result()), "want": plain(want.read().result()), "shape": list(got.shape)}
    except ValueError as e:
        out["arrays"][a["path"]] = {"error": str(e).split(" [")[0][:300]}
if req.get("list"):
    kv = ts.KvStore.open(req["spec"]).result()
    out["keys"] = sorted(k.decode() for k in kv.list().result())
print(json.dumps(out))
`;

/**
 * Reads arrays with tensorstore through a kvstore `spec` and from reference kvstores.
 *
 * @example
 * ```ts
 * const r = await tensorstoreRead(spec, [{ path: "a", driver: "zarr3", ref: { driver: "file", path: "/x/a/" } }], true);
 * ```
 */
export async function tensorstoreRead(
  spec: object,
  arrays: { path: string; driver: "zarr" | "zarr3"; ref: object }[],
  list = false,
): Promise<TensorstoreRead> {
  const out = await tensorstorePython(
    `import sys, io; sys.stdin = io.StringIO(sys.argv[1])\n${SCRIPT}`,
    JSON.stringify({ spec, arrays, list }),
  );
  return JSON.parse(out) as TensorstoreRead;
}
