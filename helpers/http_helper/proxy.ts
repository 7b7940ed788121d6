/**
 * @module
 * The proxy for a URL from the CALLER's environment (`http_proxy`, `https_proxy`, `no_proxy`,
 * either case), read through `ctx.callerEnv` (helpers contract §2.4), as the Python helper's
 * urllib did. LWP::UserAgent itself reads them only after `env_proxy`; HTTPHelper's callers
 * relied on the environment being honoured, so it is kept.
 */

import type { CallContext } from "../types.ts";

/** A proxy setting that is not a URL. */
export class ProxyError extends Error {}

/** The proxy to use for `url`, or undefined for a direct connection. */
export async function proxyFor(url: URL, ctx: CallContext): Promise<URL | undefined> {
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
    throw new ProxyError(`Invalid ${scheme}_proxy in the caller's environment`);
  }
}
