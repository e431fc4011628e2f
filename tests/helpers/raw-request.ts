// One HTTP request sent exactly as given (no URL normalisation of the path), for tests of servers.
import { request } from "node:http";

/**
 * Sends `rawPath` to the host and port of `url` and collects the whole answer.
 *
 * @example
 * ```ts
 * const { status, body } = await raw(server.url, "/a/../b", { method: "HEAD" });
 * ```
 */
export function raw(
  url: string,
  rawPath: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: rawPath,
        method: opts.method ?? "GET",
        headers: opts.headers ?? {},
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}
