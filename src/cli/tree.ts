/**
 * Draws paths (`/`, `/a`, `/a/b`) as a tree with box-drawing characters; each line is the node
 * name followed by the text for it. Parents that have no entry are drawn with `fill`.
 *
 * @example
 * ```ts
 * renderTree([{ path: "/", text: "group" }, { path: "/a", text: "array" }]);
 * // ["/  group", "└─ a  array"]
 * ```
 */
export function renderTree(
  items: readonly { path: string; text: string }[],
  fill = "(implicit group)",
): string[] {
  const byPath = new Map(items.map((i) => [i.path, i.text]));
  const children = new Map<string, string[]>();
  const add = (p: string) => {
    if (p === "/" || children.has(p)) return;
    const parent = p.lastIndexOf("/") === 0 ? "/" : p.slice(0, p.lastIndexOf("/"));
    const list = children.get(parent) ?? [];
    if (!list.includes(p)) list.push(p);
    children.set(parent, list);
    if (!children.has(p)) children.set(p, []);
    add(parent);
  };
  for (const i of items) add(i.path);
  const rows: [string, string][] = [["/", byPath.get("/") ?? fill]];
  const walk = (p: string, indent: string) => {
    const kids = (children.get(p) ?? []).sort();
    kids.forEach((k, i) => {
      const last = i === kids.length - 1;
      rows.push([
        `${indent}${last ? "└─ " : "├─ "}${k.slice(k.lastIndexOf("/") + 1)}`,
        byPath.get(k) ?? fill,
      ]);
      walk(k, `${indent}${last ? "   " : "│  "}`);
    });
  };
  walk("/", "");
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${a.padEnd(width)}  ${b}`.trimEnd());
}
