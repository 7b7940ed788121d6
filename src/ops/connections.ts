/**
 * @module
 * Connection bookkeeping for `system.connections` and `system.cleanup` (contract §4.8, §4.9).
 * DEFECT-FIX M4: "stale" means idle longer than the stale timeout, both in the listing and in
 * cleanup, and cleanup closes the stale connection itself, not only its bookkeeping.
 */

import { localIso } from "../log/format.ts";

export interface TrackedConnection {
  readonly id: string;
  readonly startMs: number;
  lastActivityMs: number;
  requests: number;
  bytesReceived: number;
  bytesSent: number;
  /** Closes the socket (used by cleanup of stale connections). */
  readonly close: () => void;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export class ConnectionTracker {
  readonly #live = new Map<string, TrackedConnection>();
  #seq = 0;

  get size(): number {
    return this.#live.size;
  }

  /** Registers a new connection; the id is `_<seq>_<epoch float>` (Unix sockets have no address). */
  open(nowMs: number, close: () => void): TrackedConnection {
    const id = `_${++this.#seq}_${(nowMs / 1000).toFixed(7)}`;
    const c: TrackedConnection = {
      id,
      startMs: nowMs,
      lastActivityMs: nowMs,
      requests: 0,
      bytesReceived: 0,
      bytesSent: 0,
      close,
    };
    this.#live.set(id, c);
    return c;
  }

  remove(c: TrackedConnection): void {
    this.#live.delete(c.id);
  }

  staleCount(nowMs: number, staleMs: number): number {
    let n = 0;
    for (const c of this.#live.values()) if (nowMs - c.lastActivityMs > staleMs) n++;
    return n;
  }

  /** `system.connections` (contract §4.8). */
  report(nowMs: number, staleMs: number, maxConcurrent: number) {
    const list = [...this.#live.values()].sort((a, b) => b.startMs - a.startMs).map((c) => {
      const idle = (nowMs - c.lastActivityMs) / 1000;
      return {
        connection_id: c.id,
        start_time: localIso(c.startMs),
        duration_seconds: round2((nowMs - c.startMs) / 1000),
        requests_count: c.requests,
        last_activity: localIso(c.lastActivityMs),
        idle_time: round2(idle),
        status: idle * 1000 > staleMs ? "stale" : "active",
      };
    });
    const stale = list.filter((c) => c.status === "stale").length;
    return {
      total_connections: list.length,
      active_connections: list.length - stale,
      stale_connections: stale,
      connections: list,
      connection_limits: { max_concurrent: maxConcurrent, stale_timeout: staleMs / 1000 },
    };
  }

  /** `system.cleanup` (contract §4.9): closes and forgets connections idle past the timeout. */
  cleanup(nowMs: number, staleMs: number) {
    const details: Array<{ connection_id: string; idle_time: number }> = [];
    for (const c of [...this.#live.values()]) {
      const idle = (nowMs - c.lastActivityMs) / 1000;
      if (idle * 1000 > staleMs) {
        details.push({ connection_id: c.id, idle_time: idle });
        this.#live.delete(c.id);
        try {
          c.close();
        } catch { /* already closed */ }
      }
    }
    return {
      cleaned_connections: details.length,
      connections_details: details,
      remaining_connections: this.#live.size,
    };
  }
}
