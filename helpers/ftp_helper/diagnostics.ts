/**
 * @module
 * The `ftp_helper` diagnostics used by test_ftp_cleanup (contract §3.6): one session's state,
 * the pool statistics, and the stale-session sweep. The pool statistics count and list only the
 * calling Perl process's own sessions (by the PID in `request_id`): one client no longer learns
 * another client's connection ids (which the handle tables also refuse to serve to it).
 */

import { failure } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { sessions } from "./session.ts";
import { str } from "../types.ts";

/** `get_connection_info`: one session's state and timestamps. */
export function connectionInfo(args: Args, ctx: CallContext) {
  const s = sessions(ctx).get(args.connection_id);
  if (!s) return failure(`Invalid connection ID: ${str(args.connection_id) ?? ""}`);
  const now = ctx.clock.now();
  return {
    success: true,
    connection_id: args.connection_id,
    host: s.host,
    state: s.client.closed ? "closed" : s.state,
    transfer_mode: s.transferMode,
    passive: s.passive ? 1 : 0,
    created_at: s.createdAt / 1000,
    last_used: s.lastUsed / 1000,
    age: (now - s.createdAt) / 1000,
    idle_time: (now - s.lastUsed) / 1000,
  };
}

/**
 * `get_pool_stats`: the caller's own sessions, and those opened by a caller whose PID is unknown
 * (usable by anyone). DEFECT-FIX (hardening): Python listed every client's connection ids.
 */
export function poolStats(_args: Args, ctx: CallContext) {
  let connected = 0, loggedIn = 0;
  const table = sessions(ctx);
  // ids() and peek() list and read without counting as use (a get would reset the idle timer).
  const ids = table.ids();
  for (const id of ids) {
    const s = table.peek(id);
    if (!s || s.client.closed) continue;
    if (s.state === "connected") connected++;
    if (s.state === "logged_in") loggedIn++;
  }
  return {
    success: true,
    total_connections: ids.length,
    connected,
    logged_in: loggedIn,
    connection_ids: ids,
  };
}

/** `cleanup_stale_connections` and the janitor hook: closes sessions idle beyond the TTL. */
export async function cleanupStale(_args: Args, ctx: CallContext) {
  const removed = await sessions(ctx).sweep();
  for (const id of removed) ctx.log.info(`Closed idle FTP connection ${id}`);
  return { success: true, removed: removed.length };
}
