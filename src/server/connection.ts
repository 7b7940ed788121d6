/**
 * @module
 * One client connection (contract §2.3, §6.3): read one request, dispatch it, write every byte
 * of the reply, close. Read failures (oversize, silence, nothing sent) get the contract's error
 * reply; a connection over the limit still gets a reply, and a liveness ping is still answered.
 */

import type { DaemonContext } from "../daemon_context.ts";
import { tooManyConnections, WireError } from "../errors.ts";
import { dispatch, failed, type Reply } from "../protocol/dispatch.ts";
import { encodeReply } from "../wire/encoding.ts";
import { readRequest, writeAll } from "../wire/framing.ts";

/** A liveness ping, recognised from the first bytes of a request. */
export const PING_PROBE = /^\s*\{[^{}]*"module"\s*:\s*"test"[^{}]*"function"\s*:\s*"ping"/;

/** Serves one accepted connection to completion. Never throws. */
export async function serveConnection(d: DaemonContext, conn: Deno.Conn): Promise<void> {
  const now = d.clock.now();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const tracked = d.connections.open(now, close);
  d.stats.connectionsTotal++;
  d.stats.peakConnections = Math.max(d.stats.peakConnections, d.connections.size);
  const peer = { client: tracked.id };
  if (d.config.debug > 0) d.logs.daemon.debug(`Handling client connection ${tracked.id}`);
  const over = d.connections.size > d.config.maxConnections;
  d.inFlight++;
  let reply: Reply;
  const t0 = performance.now();
  try {
    const bytes = await readRequest(conn, {
      maxBytes: over ? Math.min(65536, d.config.maxRequestSize) : d.config.maxRequestSize,
      idleMs: over ? 2000 : d.config.readTimeout * 1000,
      onBytes: (n) => {
        tracked.lastActivityMs = d.clock.now();
        tracked.bytesReceived += n;
      },
    });
    tracked.requests = 1;
    if (over && !PING_PROBE.test(new TextDecoder().decode(bytes.subarray(0, 512)))) {
      d.stats.connectionsRejected++;
      d.security.record("connection_limit", "warning", peer, {}, {
        limit: d.config.maxConnections,
        open: d.connections.size,
      });
      d.stats.securityEvents++;
      reply = failed(d, tooManyConnections(d.config.maxConnections), "connection.refused", t0);
    } else {
      reply = await dispatch(d, bytes, peer);
    }
  } catch (err) {
    if (err instanceof WireError) {
      if (err.message.startsWith("Request too large")) {
        d.stats.requestsRejected++;
        d.security.record("oversized_request", "warning", peer, {}, { error: err.message });
        d.stats.securityEvents++;
      } else if (err.message.startsWith("Request timeout")) {
        d.security.record("idle_timeout", "warning", peer, {}, {
          error: err.message,
          idle_seconds: d.config.readTimeout,
        });
        d.stats.securityEvents++;
      }
    }
    reply = failed(d, err, "request.read", t0);
  }
  try {
    const parts = typeof reply === "string" ? [encodeReply(reply, d.config.encoding)] : reply;
    for (const data of parts) {
      await writeAll(conn, data);
      tracked.bytesSent += data.length;
    }
  } catch (err) {
    // The client went away before reading its reply: nothing to deliver it to.
    d.logs.daemon.debug(`Error sending response: ${err instanceof Error ? err.message : err}`);
  } finally {
    d.inFlight--;
    d.connections.remove(tracked);
    close();
    if (d.config.debug > 0) {
      d.logs.daemon.debug(`Connection ${tracked.id} cleaned up after request completion`);
    }
  }
}
