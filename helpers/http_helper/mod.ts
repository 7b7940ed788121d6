/**
 * @module
 * `http_helper`: serves HTTPHelper.pm, which replaces LWP::UserAgent 6.68 and HTTP::Request
 * (helpers contract §3.2). Stateless; flat results. Each request is written and read on a raw
 * socket (`transport.ts`) exactly as LWP writes it (`request_head.ts`): header names as given,
 * any port, bodies as Perl's bytes, an empty body without `Content-Length`. Redirects follow
 * LWP (GET and HEAD only, at most 7); failures are LWP's internal 500/400/501 responses; the
 * body is `decoded_content` (`decoded_content.ts`). Proxies come from the CALLER's environment.
 */

import { defineHelper, fn, perlBytes } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { decodedContent } from "./decoded_content.ts";
import { ProxyError, proxyFor } from "./proxy.ts";
import { requestHead } from "./request_head.ts";
import type { RawResponse } from "./response_reader.ts";
import { STATUS_MESSAGES } from "./status_messages.ts";
import { exchange, ExchangeError } from "./transport.ts";
import { escapeLikeUri } from "./uri.ts";

/** LWP::UserAgent's default max_redirect. */
const MAX_REDIRECTS = 7;
/** LWP::UserAgent's default requests_redirectable. */
const REDIRECTABLE = new Set(["GET", "HEAD"]);

/** What the wrapper reads: code, message, status line, body; `internal` marks LWP's own. */
interface Outcome {
  readonly code: number;
  readonly message: string;
  readonly content: string;
  readonly headers: Record<string, string>;
  readonly internal?: "connect" | "request" | undefined;
}

/** LWP's `_new_response` for a request it refuses itself: "<code> <message>\n" as the body. */
const refused = (code: number, message: string): Outcome => ({
  code,
  message,
  content: `${code} ${message}\n`,
  headers: {},
  internal: "request",
});

/** LWP's 500 for a die inside the protocol handler (the message is the die text). */
const died = (message: string, stage: "connect" | "request"): Outcome => ({
  code: 500,
  message,
  content: `${message}\n`,
  headers: {},
  internal: stage,
});

const truthy = (v: unknown, dflt: boolean) =>
  v === undefined || v === null ? dflt : !(v === false || v === 0 || v === "0" || v === "");

/** `Content-Type` → `Content-Type`, `x-foo-bar` → `X-Foo-Bar` (Python keeps the server's case). */
const titleCase = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());

/** LWP::UserAgent::request's checks before any connection; a URL or an internal response. */
function checkUrl(text: string): URL | Outcome {
  if (text === "") return refused(400, "URL missing");
  const scheme = /^([A-Za-z][A-Za-z0-9.+-]*):/.exec(text)?.[1]?.toLowerCase();
  if (!scheme) return refused(400, "URL must be absolute");
  if (scheme !== "http" && scheme !== "https") {
    return refused(501, `Protocol scheme '${scheme}' is not supported`);
  }
  const authority = /^[^:]+:\/\/([^/?#]*)/.exec(text)?.[1]?.replace(/^[^@]*@/, "") ?? "";
  if (authority === "") return died("No Host option provided", "request");
  try {
    const url = new URL(escapeLikeUri(text));
    if (url.hostname === "") return died("No Host option provided", "request");
    return url;
  } catch {
    // URI accepts what the WHATWG parser refuses; the name lookup then fails.
    const where = /:\d*$/.test(authority)
      ? authority
      : `${authority}:${scheme === "https" ? 443 : 80}`;
    return died(`Can't connect to ${where} (Name or service not known)`, "connect");
  }
}

/** The caller's headers, without undefined values (wrapper: User-Agent is always set). */
function headersOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === "object" && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== null && x !== undefined) out[k] = String(x);
    }
  }
  return out;
}

/** One request/response exchange for `url`, proxy included, as LWP::Protocol::http runs it. */
async function once(
  url: URL,
  uri: string,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
  opts: { verify: boolean; timeoutMs: number; ctx: CallContext },
): Promise<RawResponse | Outcome> {
  let proxy: URL | undefined;
  try {
    proxy = await proxyFor(url, opts.ctx);
  } catch (err) {
    if (err instanceof ProxyError) return died(err.message, "connect");
    throw err;
  }
  const https = url.protocol === "https:";
  const port = Number(url.port || (https ? 443 : 80));
  const viaProxy = proxy && !https ? proxy : undefined;
  const proxyAuth = proxy?.username
    ? `Basic ${
      btoa(String.fromCharCode(
        ...perlBytes(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`),
      ))
    }`
    : undefined;
  const endpoint = proxy
    ? { host: proxy.hostname, port: Number(proxy.port || 80), tls: https, verify: opts.verify }
    : { host: url.hostname.replace(/^\[|\]$/g, ""), port, tls: https, verify: opts.verify };
  try {
    return await exchange({
      endpoint,
      tunnelTo: proxy && https ? { host: url.hostname, port } : undefined,
      proxyAuth,
      head: requestHead({
        method,
        url,
        uri,
        headers,
        bodyLength: body?.length ?? 0,
        proxy: viaProxy,
      }),
      body,
      isHead: method === "HEAD",
      timeoutMs: opts.timeoutMs,
      signal: opts.ctx.signal,
    });
  } catch (err) {
    if (!(err instanceof ExchangeError)) throw err;
    opts.ctx.log.info(`${method} ${url.origin}${url.pathname}: ${err.message}`);
    return died(err.message, err.stage === "connect" ? "connect" : "request");
  }
}

/** Runs one LWP-style request (contract §3.2 `lwp_request`). */
async function lwpRequest(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  const started = performance.now();
  const urlText = String(args.url ?? "");
  const method = String(args.method ?? "GET").toUpperCase();
  const timeoutS = Number(args.timeout ?? 180);
  const timeoutMs = (Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS : 180) * 1000;
  const verify = truthy(args.verify_ssl, true);
  const headers = headersOf(args.headers);
  const form = args.form_encoded_content, content = args.content;
  const bodyText = typeof form === "string" && form !== ""
    ? form
    : content === undefined || content === null
    ? undefined
    : String(content);
  // Perl bytes out: a byte string as its bytes, a wide-character string as UTF-8.
  const body = bodyText === undefined ? undefined : perlBytes(bodyText);
  if (
    bodyText !== undefined && bodyText === form &&
    !Object.keys(headers).some((k) => /^content[-_]type$/i.test(k))
  ) {
    // HTTP::Request::Common::POST's default for a form.
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  const checked = checkUrl(urlText);
  let url: URL | undefined = checked instanceof URL ? checked : undefined;
  let uri = escapeLikeUri(urlText);
  let outcome: Outcome = checked instanceof URL ? refused(500, "unreachable") : checked;
  for (let redirects = 0; url; redirects++) {
    const res = await once(url, uri, method, headers, body, { verify, timeoutMs, ctx });
    if (!("status" in res)) {
      outcome = res;
      break;
    }
    const resHeaders: Record<string, string> = {};
    for (const [k, v] of res.headers) resHeaders[titleCase(k.toLowerCase())] = v;
    outcome = {
      code: res.status,
      message: res.statusText,
      content: method === "HEAD" ? "" : decodedContent(res.body, res.headers),
      headers: resHeaders,
    };
    // LWP::UserAgent::request: follow 301/302/303/307/308 for GET and HEAD, at most 7 times.
    if (![301, 302, 303, 307, 308].includes(res.status) || !REDIRECTABLE.has(method)) break;
    if (redirects >= MAX_REDIRECTS) break;
    const location = res.headers.find(([k]) => k.toLowerCase() === "location")?.[1] ?? "";
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      break;
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") break;
    // The referral never forwards Host or Cookie, nor Referer from https to http.
    for (const k of Object.keys(headers)) {
      const lk = k.toLowerCase();
      if (
        lk === "host" || lk === "cookie" ||
        (lk === "referer" && url.protocol === "https:" && next.protocol === "http:")
      ) delete headers[k];
    }
    url = next;
    uri = next.href;
  }
  return result(outcome, url ? uri : urlText, (performance.now() - started) / 1000);
}

/** The flat result (contract §3.2); `success` is LWP's is_success (2xx only). */
function result(o: Outcome, url: string, elapsed: number): Record<string, unknown> {
  // HTTP::Response::status_line: the server's phrase, else HTTP::Status's, else "Unknown code".
  const phrase = o.message || STATUS_MESSAGES[o.code] || "Unknown code";
  const ok = o.code >= 200 && o.code < 300;
  const error = o.internal === "connect"
    ? `Connection failed: ${o.message}`
    : o.internal === "request"
    ? `Request failed: ${o.message}`
    : `HTTP ${o.code}: ${phrase}`;
  return {
    success: ok,
    status_code: o.code,
    reason: o.message,
    status_line: `${o.code} ${phrase}`,
    content: o.content,
    body: o.content,
    headers: o.headers,
    url,
    elapsed,
    ...(ok ? {} : { error }),
  };
}

/** `get`/`post`/… : `lwp_request` with a fixed method (whitelisted names, contract §2.1). */
function verb(method: string) {
  return fn(
    ["url", "headers", "content", "timeout", "verify_ssl", "form_encoded_content"],
    (args, ctx) => lwpRequest({ ...args, method }, ctx),
  );
}

export const httpHelper = defineHelper({
  name: "http_helper",
  replaces: "HTTPHelper.pm (LWP::UserAgent 6.68, HTTP::Request)",
  functions: {
    lwp_request: fn(
      ["method", "url", "headers", "content", "form_encoded_content", "timeout", "verify_ssl"],
      lwpRequest,
    ),
    get: verb("GET"),
    post: verb("POST"),
    put: verb("PUT"),
    delete: verb("DELETE"),
    head: verb("HEAD"),
  },
});
