/**
 * @module
 * `connect` and `connect_cached` of the `database` helper: DSN parsing, auth-mode detection
 * (Kerberos from the caller's KRB5 variables, Oracle only), the driver connect, and the
 * connect_cached table (50 entries, 600 s idle, liveness ping). A failed connect answers with the
 * text `$DBI::errstr` would hold (libpq's for PostgreSQL, SQLite's own), and never the password.
 */

import type { Args, CallContext } from "../types.ts";
import { failure } from "../types.ts";
import { type Drivers, optionsOf, perlTrue, type Reply, str } from "./calls.ts";
import type { DriverConnection } from "./driver.ts";
import { describeDsn, parseDsn } from "./dsn.ts";
import { CACHE_MAX, type ConnState, scrub, tables } from "./session.ts";

/** `connect`: opens a driver connection and registers its handle. */
export async function connect(drivers: Drivers, args: Args, ctx: CallContext): Promise<Reply> {
  const password = str(args.password);
  const parsed = parseDsn(str(args.dsn), str(args.username));
  if ("error" in parsed) return failure(parsed.error);
  const options = optionsOf(args);
  const driver = drivers[parsed.dsn.driver];
  let authMode = str(args.auth_mode) || "auto";
  if (!["auto", "password", "kerberos"].includes(authMode)) {
    return failure(`Invalid auth_mode '${authMode}': use 'auto', 'password' or 'kerberos'`);
  }
  if (authMode === "auto") {
    const krb = parsed.dsn.driver === "oracle" && (await ctx.callerEnv("KRB5_CONFIG")) &&
      (await ctx.callerEnv("KRB5CCNAME"));
    authMode = krb ? "kerberos" : "password";
  }
  const req = {
    dsn: parsed.dsn,
    username: parsed.username,
    password,
    externalAuth: authMode === "kerberos",
    resolvePath: (p: string) => ctx.resolvePath(p),
    env: (n: string) => ctx.callerEnv(n),
    paths: ctx.settings.paths,
    callerCwd: () => ctx.callerCwd(),
  };
  const label = describeDsn(parsed.dsn);
  const who = parsed.username || "(default user)";
  let native: DriverConnection;
  try {
    native = await driver.connect(req);
  } catch (e) {
    const text = scrub(driver.errorText(e), password);
    ctx.log.warn(`database: connect to ${label} as ${who} failed: ${text}`);
    const errstr = driver.connectErrorText
      ? scrub(driver.connectErrorText(e, req), password)
      : `Cannot connect to ${label}: ${text}`;
    return failure(errstr);
  }
  const state: ConnState = {
    driver,
    req,
    native,
    autoCommit: perlTrue(options.AutoCommit, true),
    raiseError: perlTrue(options.RaiseError, false),
    printError: perlTrue(options.PrintError, true),
    authMode,
    inWork: false,
    dirty: false,
    lostInTxn: undefined,
    lastError: null,
    statements: new Set(),
    label,
  };
  const id = tables(ctx).conns.add(state);
  ctx.log.info(`database: connected to ${label} as ${who} (${id})`);
  return { success: true, connection_id: id, db_type: driver.dbType, auth_mode: authMode };
}

/** connect_cached key: DSN, user, a digest of the password, the DBI attrs, and the caller PID. */
async function cacheKey(args: Args, ctx: CallContext): Promise<string> {
  const o = optionsOf(args);
  const attrs = `ac${perlTrue(o.AutoCommit, true) ? 1 : 0}_re${
    perlTrue(o.RaiseError, false) ? 1 : 0
  }_pe${perlTrue(o.PrintError, true) ? 1 : 0}`;
  const raw = [str(args.dsn), str(args.username), str(args.password), attrs, ctx.callerPid ?? ""]
    .join("\u0000");
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(raw)),
  );
  return "dbcache_" +
    Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `connect_cached`: a live cached handle for the same key, else a new connect. */
export async function connectCached(
  drivers: Drivers,
  args: Args,
  ctx: CallContext,
): Promise<Reply> {
  const { conns, cache } = tables(ctx);
  const key = await cacheKey(args, ctx);
  const hit = cache.get(key);
  if (hit && conns.has(hit.connectionId)) {
    const alive = await conns.withLock(hit.connectionId, async (c) => {
      if (c.lostInTxn || !c.native || c.native.lost) return false;
      try {
        await c.native.ping();
        return c;
      } catch {
        return false;
      }
    });
    if (alive) {
      return {
        success: true,
        connection_id: hit.connectionId,
        db_type: alive.driver.dbType,
        auth_mode: alive.authMode,
        cached: true,
      };
    }
    await conns.delete(hit.connectionId, "connect_cached: connection dead");
  }
  if (hit) await cache.delete(key, "stale");
  const r = await connect(drivers, args, ctx);
  if (r.success !== true) return r;
  if (cache.size >= CACHE_MAX) {
    const [oldest] = cache.ids();
    if (oldest !== undefined) await cache.delete(oldest, "connect_cached: cache full");
  }
  cache.add({ connectionId: r.connection_id as string }, key);
  return { ...r, cached: false };
}
