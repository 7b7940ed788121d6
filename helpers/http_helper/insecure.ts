/**
 * @module
 * One HTTPS request without certificate verification, for `verify_ssl: 0`
 * (`PERL_LWP_SSL_VERIFY_HOSTNAME=0`). Deno's `fetch` and `Deno.createHttpClient` have no
 * per-request "insecure" switch on 2.9.6 (only the process-wide `--unsafely-ignore-certificate-
 * errors` flag), while `node:https` honours `rejectUnauthorized: false` per request.
 */

import https from "node:https";
import http from "node:http";
import tls from "node:tls";
import type { Socket } from "node:net";

/** What the shared request loop needs back from one exchange. */
export interface RawResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: [string, string][];
  readonly body: Uint8Array;
}

/** Opens a CONNECT tunnel through an HTTP proxy and returns the raw socket. */
function tunnel(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: `${host}:${port}` };
    if (proxy.username) {
      const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers["Proxy-Authorization"] = `Basic ${btoa(cred)}`;
    }
    const req = http.request({
      host: proxy.hostname,
      port: Number(proxy.port || 80),
      method: "CONNECT",
      path: `${host}:${port}`,
      headers,
    });
    const onAbort = () => req.destroy(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("connect", (res, socket) => {
      signal.removeEventListener("abort", onAbort);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`proxy CONNECT failed: ${res.statusCode} ${res.statusMessage}`));
      } else resolve(socket);
    });
    req.on("error", (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
    req.end();
  });
}

/** An agent whose one connection is TLS over an already open proxy tunnel. */
class TunnelAgent extends https.Agent {
  readonly #socket: Socket;
  readonly #servername: string;
  constructor(socket: Socket, servername: string) {
    super({ keepAlive: false });
    this.#socket = socket;
    this.#servername = servername;
  }
  override createConnection(): tls.TLSSocket {
    return tls.connect({
      socket: this.#socket,
      servername: this.#servername,
      rejectUnauthorized: false,
    });
  }
}

/** Sends one request with `rejectUnauthorized: false`; rejects on network errors or abort. */
export async function insecureRequest(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
  signal: AbortSignal,
  proxy: URL | undefined,
): Promise<RawResponse> {
  const port = Number(url.port || 443);
  const socket = proxy ? await tunnel(proxy, url.hostname, port, signal) : undefined;
  return await new Promise<RawResponse>((resolve, reject) => {
    const req = https.request({
      host: url.hostname,
      port,
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      rejectUnauthorized: false,
      // Deno's node:https ignores a `createConnection` request option but honours an agent's.
      agent: socket ? new TunnelAgent(socket, url.hostname) : false,
    });
    const onAbort = () =>
      req.destroy(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    req.on("response", (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(c));
      res.on("end", () => {
        signal.removeEventListener("abort", onAbort);
        const pairs: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        }
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const out = new Uint8Array(total);
        let off = 0;
        for (const c of chunks) {
          out.set(c, off);
          off += c.length;
        }
        resolve({
          status: res.statusCode ?? 500,
          statusText: res.statusMessage ?? "",
          headers: pairs,
          body: out,
        });
      });
      res.on("error", (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      });
    });
    req.on("error", (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
    if (body) req.write(body);
    req.end();
  });
}
