/**
 * @module
 * One HTTP/1.1 exchange over a raw `node:net` / `node:tls` socket: the bytes `requestHead`
 * built, then the body, then the response read until it is complete or the server closes.
 * No `fetch`: header names go out as written and any port is allowed, as with LWP. HTTPS
 * verifies certificates unless `verify` is off; plain HTTP through a proxy uses the
 * absolute-form target, HTTPS through a proxy a CONNECT tunnel. The timeout is LWP's: the
 * longest wait for the connection or for the next bytes, not a bound on the whole request.
 */

import net from "node:net";
import tls from "node:tls";
import { concatBytes } from "../types.ts";
import { parseHead, readResponse, ResponseFormatError } from "./response_reader.ts";
import type { Head, RawResponse } from "./response_reader.ts";

/**
 * The largest response kept (a bound of cpan-bridge; LWP has none by default). The reply
 * carries the body twice (`content`, `body`) as ASCII JSON under CPAN_BRIDGE_MAX_REPLY_SIZE
 * (256 MiB), so larger bodies could not reach the script anyway.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Why an exchange failed; `message` is LWP's text after "500 ". */
export class ExchangeError extends Error {
  constructor(
    readonly stage: "connect" | "read" | "cancelled",
    message: string,
  ) {
    super(message);
  }
}

/** Where to connect and how. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly verify: boolean;
}

/** What one exchange needs. */
export interface ExchangeInput {
  /** The server, or the proxy for plain HTTP through a proxy. */
  readonly endpoint: Endpoint;
  /** Set for HTTPS through a proxy: `endpoint` is the proxy, this the tunnel's far end. */
  readonly tunnelTo?: { readonly host: string; readonly port: number } | undefined;
  readonly proxyAuth?: string | undefined;
  readonly head: Uint8Array;
  readonly body: Uint8Array | undefined;
  readonly isHead: boolean;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** Overrides MAX_RESPONSE_BYTES (tests). */
  readonly maxResponseBytes?: number;
}

/** errno names → the strerror text Perl puts in `$!`. */
const STRERROR: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  ECONNRESET: "Connection reset by peer",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ETIMEDOUT: "Connection timed out",
  ENOTFOUND: "Name or service not known",
  EAI_NONAME: "Name or service not known",
  EAI_AGAIN: "Temporary failure in name resolution",
  EPIPE: "Broken pipe",
  EADDRNOTAVAIL: "Cannot assign requested address",
};

function osText(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && STRERROR[code]) return STRERROR[code];
  const msg = err instanceof Error ? err.message : String(err);
  if (/certificate|self.signed|unable to verify/i.test(msg)) return "certificate verify failed";
  return msg;
}

/** IO::Socket::IP's host form in LWP's "Can't connect to" text (IPv6 in brackets). */
const hostPort = (host: string, port: number) =>
  `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;

/** Opens the socket (through a CONNECT tunnel when asked) and resolves once it can write. */
function open(input: ExchangeInput): Promise<net.Socket> {
  const { endpoint: ep, tunnelTo } = input;
  const where = hostPort(ep.host, ep.port);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: ExchangeError) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      input.signal.removeEventListener("abort", onAbort);
      reject(e);
    };
    const ok = (s: net.Socket) => {
      if (settled) return;
      settled = true;
      s.setTimeout(0);
      input.signal.removeEventListener("abort", onAbort);
      resolve(s);
    };
    const onAbort = () => fail(new ExchangeError("cancelled", "request cancelled by the daemon"));
    const servername = (h: string) => (net.isIP(h) ? undefined : h);
    const sock: net.Socket = ep.tls && !tunnelTo
      ? tls.connect({
        host: ep.host,
        port: ep.port,
        servername: servername(ep.host),
        rejectUnauthorized: ep.verify,
      })
      : net.connect({ host: ep.host, port: ep.port });
    input.signal.addEventListener("abort", onAbort, { once: true });
    if (input.signal.aborted) onAbort();
    sock.setTimeout(
      input.timeoutMs,
      () => fail(new ExchangeError("connect", `Can't connect to ${where} (Connection timed out)`)),
    );
    sock.on(
      "error",
      (e) => fail(new ExchangeError("connect", `Can't connect to ${where} (${osText(e)})`)),
    );
    if (!tunnelTo) {
      sock.once(ep.tls ? "secureConnect" : "connect", () => ok(sock));
      return;
    }
    // LWP::Protocol::http: CONNECT through the proxy, then the TLS upgrade of that socket.
    sock.once("connect", () => {
      const target = hostPort(tunnelTo.host, tunnelTo.port);
      const auth = input.proxyAuth ? `Proxy-Authorization: ${input.proxyAuth}\r\n` : "";
      sock.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
      let buf = new Uint8Array(0);
      const onData = (chunk: Uint8Array) => {
        const next = new Uint8Array(buf.length + chunk.length);
        next.set(buf);
        next.set(chunk, buf.length);
        buf = next;
        let head: Head | undefined;
        try {
          head = parseHead(buf, 0);
        } catch (e) {
          return fail(new ExchangeError("connect", (e as Error).message));
        }
        if (!head) return;
        sock.off("data", onData);
        if (head.status < 200 || head.status > 299) {
          const phrase = head.statusText ? ` ${head.statusText}` : "";
          return fail(
            new ExchangeError("connect", `establishing SSL tunnel failed: ${head.status}${phrase}`),
          );
        }
        const secure = tls.connect({
          socket: sock,
          servername: servername(tunnelTo.host),
          rejectUnauthorized: ep.verify,
        });
        secure.on(
          "error",
          (e) => fail(new ExchangeError("connect", `Can't connect to ${target} (${osText(e)})`)),
        );
        secure.once("secureConnect", () => ok(secure));
      };
      sock.on("data", onData);
    });
  });
}

/** Sends the request and reads the whole response. Rejects with `ExchangeError` only. */
export async function exchange(input: ExchangeInput): Promise<RawResponse> {
  const sock = await open(input);
  return await new Promise<RawResponse>((resolve, reject) => {
    const parts: Uint8Array[] = [];
    let total = 0;
    let head: Head | undefined;
    let tail: number[] = [];
    let settled = false;
    const finish = (err: ExchangeError | undefined, res?: RawResponse) => {
      if (settled) return;
      settled = true;
      input.signal.removeEventListener("abort", onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const onAbort = () => finish(new ExchangeError("cancelled", "request cancelled by the daemon"));
    input.signal.addEventListener("abort", onAbort, { once: true });
    if (input.signal.aborted) onAbort();
    const attempt = (eof: boolean) => {
      try {
        const res = readResponse(concatBytes(parts), { isHead: input.isHead, eof });
        if (res) finish(undefined, res);
      } catch (e) {
        const msg = e instanceof ResponseFormatError ? e.message : String(e);
        finish(new ExchangeError("read", msg));
      }
    };
    /** Whether the bytes so far may complete the response (avoids re-reading a large body). */
    const mayBeComplete = (chunk: Uint8Array) => {
      if (!head || head.status < 200) {
        try {
          head = parseHead(concatBytes(parts), 0);
        } catch {
          return true;
        }
        return true;
      }
      const h = (n: string) => head!.headers.find(([k]) => k.toLowerCase() === n)?.[1];
      if (h("transfer-encoding") !== undefined) {
        // The last chunk ends the body with CRLF CRLF, possibly split across reads.
        tail = [...tail, ...chunk.subarray(Math.max(0, chunk.length - 4))].slice(-4);
        return tail.join() === "13,10,13,10";
      }
      const len = h("content-length");
      return len !== undefined && total - head.bodyStart >= Number(len);
    };
    sock.setTimeout(input.timeoutMs, () => finish(new ExchangeError("read", "read timeout")));
    sock.on("data", (chunk: Uint8Array) => {
      parts.push(chunk);
      total += chunk.length;
      const cap = input.maxResponseBytes ?? MAX_RESPONSE_BYTES;
      if (total > cap) {
        return finish(
          new ExchangeError(
            "read",
            `Response larger than ${cap} bytes (cpan-bridge's limit)`,
          ),
        );
      }
      if (mayBeComplete(chunk)) attempt(false);
    });
    sock.on("end", () => attempt(true));
    sock.on("close", () => attempt(true));
    sock.on("error", (e) => {
      if (total > 0) attempt(true);
      else finish(new ExchangeError("read", osText(e)));
    });
    sock.write(input.head);
    if (input.body && input.body.length) sock.write(input.body);
  });
}
