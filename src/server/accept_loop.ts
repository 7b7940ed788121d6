/**
 * @module
 * The accept loop (contract §6.2, §12 D2). A failed accept must never end it: Deno's listener
 * iterator stops at the first error, so one EMFILE (process out of file descriptors) left the
 * daemon deaf for good. The loop keeps one descriptor in reserve; when an accept fails, it frees
 * the reserve to take the waiting client, answers it (a liveness ping normally, anything else
 * with a clear "Server busy" error) and closes it, then takes the reserve back. Clients are
 * refused cleanly instead of hanging in the backlog, and service resumes when descriptors free up.
 *
 * At the hard cap (`CPAN_BRIDGE_MAX_CONNECTIONS` + `CPAN_BRIDGE_MAX_QUEUED_CONNECTIONS` open) the
 * loop stops accepting until a connection closes, so further clients wait in the listen backlog
 * as they did with the Python daemon; below it, connections over the limit are accepted and wait
 * for a slot in server/connection.ts, and control requests among them are answered at once.
 */

import type { DaemonContext } from "../daemon_context.ts";
import { serverBusy } from "../errors.ts";
import { dispatch, failed } from "../protocol/dispatch.ts";
import { type Reply, replyParts } from "../protocol/envelope.ts";
import { readRequest, writeAll } from "../wire/framing.ts";
import { isPing } from "./connection.ts";

/** What the loop needs besides the listener. */
export interface AcceptLoopDeps {
  readonly d: DaemonContext;
  /** Serves one accepted connection (not awaited). */
  readonly serve: (conn: Deno.Conn) => void;
  /** True once the daemon is stopping: a failed accept then ends the loop. */
  readonly stopping: () => boolean;
}

const BACKOFF_MS = 50;
/** A refused client has this long to send its request (it holds the only spare descriptor). */
const REFUSE_IDLE_MS = 500;
/** At most one "cannot accept" log line per this many ms. */
const LOG_EVERY_MS = 5_000;

function openReserve(): Deno.FsFile | undefined {
  try {
    return Deno.openSync("/dev/null", { read: true });
  } catch {
    return undefined;
  }
}

/** Answers one connection taken with the reserve descriptor, then closes it. */
async function refuse(d: DaemonContext, conn: Deno.Conn, why: string): Promise<void> {
  const t0 = performance.now();
  let reply: Reply;
  try {
    const bytes = await readRequest(conn, {
      maxBytes: 65536,
      idleMs: REFUSE_IDLE_MS,
      deadlineMs: REFUSE_IDLE_MS,
      drainMs: REFUSE_IDLE_MS,
    });
    if (isPing(bytes)) {
      reply = await dispatch(d, bytes, { client: "reserve" });
    } else {
      d.stats.connectionsRejected++;
      reply = failed(d, serverBusy(why), "connection.refused", t0);
    }
  } catch (err) {
    reply = failed(d, err, "request.read", t0);
  }
  try {
    for (const p of replyParts(reply, d.config.encoding)) await writeAll(conn, p);
  } catch { /* client gone */ }
  try {
    conn.close();
  } catch { /* closed */ }
}

/** Accepts connections until the listener is closed. Never throws. */
export async function acceptLoop(
  listener: Deno.Listener,
  { d, serve, stopping }: AcceptLoopDeps,
): Promise<void> {
  let reserve = openReserve();
  let lastLog = -Infinity;
  try {
    // Runs until the listener is closed: at shutdown the daemon keeps accepting what is already
    // queued for a short grace (daemon.ts), so the loop must not stop on the flag alone.
    const hardCap = d.config.maxConnections + Math.max(0, d.config.maxQueuedConnections);
    for (;;) {
      if (d.connections.size >= hardCap) {
        if (performance.now() - lastLog > LOG_EVERY_MS) {
          lastLog = performance.now();
          d.logs.daemon.warn(
            `Connection limit reached (${d.config.maxConnections} served, ${d.config.maxQueuedConnections} queued), not accepting until one closes`,
          );
        }
        // Re-checked every 250 ms too, so a stop is never held up by a full house.
        let tick: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          d.connections.whenBelow(hardCap),
          new Promise((r) => (tick = setTimeout(r, 250))),
        ]);
        clearTimeout(tick);
        if (stopping() && d.connections.size >= hardCap) return;
        continue;
      }
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (
          stopping() || err instanceof Deno.errors.BadResource ||
          err instanceof Deno.errors.Interrupted
        ) return;
        const msg = err instanceof Error ? err.message : String(err);
        if (performance.now() - lastLog > LOG_EVERY_MS) {
          lastLog = performance.now();
          d.logs.daemon.error(
            `Error accepting connections: ${msg}; refusing new clients until descriptors free up (raise ulimit -n or lower CPAN_BRIDGE_MAX_CONNECTIONS)`,
          );
        }
        if (reserve) {
          reserve.close();
          reserve = undefined;
          let spare: Deno.Conn | undefined;
          try {
            spare = await listener.accept();
          } catch (e) {
            if (
              stopping() || e instanceof Deno.errors.BadResource ||
              e instanceof Deno.errors.Interrupted
            ) return;
          }
          if (spare) await refuse(d, spare, `the daemon is out of file descriptors (${msg})`);
          reserve = openReserve();
          if (spare && reserve) continue;
        }
        await new Promise((r) => setTimeout(r, BACKOFF_MS));
        continue;
      }
      serve(conn);
    }
  } finally {
    reserve?.close();
  }
}
