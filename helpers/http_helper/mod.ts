/**
 * @module
 * `http_helper`: serves HTTPHelper.pm, which replaces LWP::UserAgent, HTTP::Request and
 * WWW::Mechanize (helpers contract §3.2). Stateless; flat results. Requests go through Deno's
 * `fetch`; `verify_ssl: 0` HTTPS requests go through `node:https` (see `insecure.ts`). Redirects
 * follow urllib's rules, proxies come from the CALLER's environment (`http_proxy`, `https_proxy`,
 * `no_proxy`), and `timeout` bounds the whole request.
 */

import { defineHelper, fn } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { insecureRequest } from "./insecure.ts";
import type { RawResponse } from "./insecure.ts";

/** urllib's HTTPRedirectHandler.max_redirections. */
const MAX_REDIRECTS = 10;

/** The reason phrases of the Python helper (contract §3.2). */
const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The table's phrase, else the server's, else "Unknown". */
function reasonOf(code: number, serverText: string): string {
  return REASONS[code] ?? (serverText || "Unknown");
}

/** A network-level failure, mapped to status 500 (contract §3.2 "Error mapping"). */
class RequestFailure extends Error {
  constructor(readonly reason: "Connection Error" | "Request Error", message: string) {
    super(message);
  }
}

const truthy = (v: unknown, dflt: boolean) =>
  v === undefined || v === null ? dflt : !(v === false || v === 0 || v === "0" || v === "");

/** `Content-Type` → `Content-Type`, `x-foo-bar` → `X-Foo-Bar` (Python keeps the server's case). */
const titleCase = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());

/** The proxy for `url` from the caller's environment, as urllib's getproxies/proxy_bypass. */
async function proxyFor(url: URL, ctx: CallContext): Promise<URL | undefined> {
  const scheme = url.protocol.replace(":", "");
  const env = async (n: string) =>
    (await ctx.callerEnv(n)) ?? (await ctx.callerEnv(n.toUpperCase()));
  const raw = await env(`${scheme}_proxy`);
  if (!raw) return undefined;
  const noProxy = (await env("no_proxy")) ?? "";
  const host = url.hostname.toLowerCase();
  const hostPort = `${host}:${url.port || (scheme === "https" ? 443 : 80)}`;
  for (let name of noProxy.split(",").map((n) => n.trim().toLowerCase()).filter(Boolean)) {
    if (name === "*") return undefined;
    name = name.replace(/^\.+/, "");
    if (host === name || hostPort === name || host.endsWith(`.${name}`)) return undefined;
  }
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new RequestFailure(
      "Connection Error",
      `Invalid ${scheme}_proxy in the caller's environment`,
    );
  }
}

/** One exchange through fetch (certificate verification on). */
async function viaFetch(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array<ArrayBuffer> | undefined,
  signal: AbortSignal,
  proxy: URL | undefined,
): Promise<RawResponse> {
  let client: Deno.HttpClient | undefined;
  if (proxy) {
    const basicAuth = proxy.username
      ? {
        username: decodeURIComponent(proxy.username),
        password: decodeURIComponent(proxy.password),
      }
      : undefined;
    client = Deno.createHttpClient({
      proxy: { url: `${proxy.protocol}//${proxy.host}`, basicAuth },
    });
  }
  try {
    const res = await fetch(url, { method, headers, body, redirect: "manual", signal, client });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status,
      statusText: res.statusText,
      headers: [...res.headers],
      body: bytes,
    };
  } finally {
    client?.close();
  }
}

/** The innermost cause of a fetch/node error, e.g. "Connection refused (os error 111)". */
function rootMessage(err: unknown): string {
  let e: unknown = err;
  let msg = err instanceof Error ? err.message : String(err);
  for (let i = 0; i < 5 && e instanceof Error && e.cause; i++) {
    e = e.cause;
    if (e instanceof Error && e.message) msg = e.message;
  }
  // Deno: "error sending request for url (…): client error (Connect): tcp connect error: X"
  const tail = /: ([^:]*(?:\(os error \d+\)|certificate[^:]*|dns error[^:]*)(?:: .*)?)$/i.exec(msg);
  return tail ? tail[1] : msg;
}

/** Decodes a body with the Content-Type charset, else UTF-8 with replacement characters. */
function decodeBody(bytes: Uint8Array, contentType: string | undefined): string {
  const cs = /charset=([^;\s]+)/i.exec(contentType ?? "")?.[1]?.replace(/["']/g, "");
  try {
    return new TextDecoder(cs ?? "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

/** Runs one LWP-style request (contract §3.2 `lwp_request`). */
async function lwpRequest(args: Args, ctx: CallContext): Promise<Record<string, unknown>> {
  const started = performance.now();
  const urlText = String(args.url ?? "");
  const elapsed = () => (performance.now() - started) / 1000;
  const fail = (reason: string, statusLine: string, error: string, url = urlText) => ({
    success: false,
    status_code: 500,
    reason,
    status_line: `500 ${statusLine}`,
    content: "",
    body: "",
    headers: {},
    url,
    elapsed: elapsed(),
    error,
  });
  let url: URL;
  try {
    url = new URL(urlText);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`unsupported scheme ${url.protocol}`);
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return fail(
      "Internal Error",
      "Internal Error",
      `Internal error: invalid URL '${urlText}': ${why}`,
    );
  }
  let method = String(args.method ?? "GET").toUpperCase();
  const timeoutS = Number(args.timeout ?? 180);
  const timeoutMs = (Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS : 180) * 1000;
  const verify = truthy(args.verify_ssl, true);
  const headers: Record<string, string> = {};
  if (args.headers && typeof args.headers === "object") {
    for (const [k, v] of Object.entries(args.headers as Record<string, unknown>)) {
      if (v !== null && v !== undefined) headers[k] = String(v);
    }
  }
  const form = args.form_encoded_content, content = args.content;
  const bodyText = form ? String(form) : content ? String(content) : undefined;
  let body: Uint8Array<ArrayBuffer> | undefined = bodyText === undefined
    ? undefined
    : new TextEncoder().encode(bodyText);
  const hasHeader = (n: string) => Object.keys(headers).some((k) => k.toLowerCase() === n);
  // urllib adds this default to any request with a body.
  if (body && !hasHeader("content-type")) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  }

  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, ctx.signal]);
  try {
    for (let hop = 0;; hop++) {
      const proxy = await proxyFor(url, ctx);
      let res: RawResponse;
      try {
        res = url.protocol === "https:" && !verify
          ? await insecureRequest(url, method, headers, body, signal, proxy)
          : await viaFetch(url, method, headers, body, signal, proxy);
      } catch (err) {
        if (timeout.aborted) {
          throw new RequestFailure("Request Error", `timed out after ${timeoutMs / 1000} s`);
        }
        if (ctx.signal.aborted) {
          throw new RequestFailure("Request Error", "request cancelled by the daemon");
        }
        throw new RequestFailure("Connection Error", rootMessage(err));
      }
      const location = res.headers.find(([k]) => k.toLowerCase() === "location")?.[1];
      const code = res.status;
      const redirectable = location && [301, 302, 303, 307, 308].includes(code) &&
        ((method === "GET" || method === "HEAD") || (method === "POST" && code <= 303));
      if (redirectable && hop < MAX_REDIRECTS) {
        url = new URL(location, url);
        if (method === "POST") {
          // urllib turns a redirected POST into a GET without body or content headers.
          method = "GET";
          body = undefined;
          for (const k of Object.keys(headers)) {
            if (/^content-(type|length)$/i.test(k)) delete headers[k];
          }
        }
        continue;
      }
      return respond(res, url, elapsed(), method);
    }
  } catch (err) {
    if (err instanceof RequestFailure) {
      const prefix = err.reason === "Connection Error" ? "Connection failed" : "Request failed";
      ctx.log.info(`${method} ${url.origin}${url.pathname}: ${err.message}`);
      return fail(err.reason, err.message, `${prefix}: ${err.message}`, url.href);
    }
    const why = err instanceof Error ? err.message : String(err);
    return fail("Internal Error", "Internal Error", `Internal error: ${why}`, url.href);
  }
}

/** Builds the flat result; 4xx/5xx (and unfollowed 3xx) are `success: false`, as urllib's HTTPError. */
function respond(
  res: RawResponse,
  url: URL,
  elapsed: number,
  method: string,
): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [k, v] of res.headers) headers[titleCase(k.toLowerCase())] = v;
  const text = method === "HEAD" ? "" : decodeBody(res.body, headers["Content-Type"]);
  const reason = reasonOf(res.status, res.statusText);
  const ok = res.status < 300;
  return {
    success: ok,
    status_code: res.status,
    reason,
    status_line: `${res.status} ${reason}`,
    content: text,
    body: text,
    headers,
    url: url.href,
    elapsed,
    ...(ok ? {} : { error: `HTTP ${res.status}: ${reason}` }),
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
  replaces: "HTTPHelper.pm (LWP::UserAgent, HTTP::Request, WWW::Mechanize)",
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
