/**
 * @module
 * Connection bookkeeping for `system.connections` and `system.cleanup` (contract §4.8, §4.9).
 * DEFECT-FIX M4: "stale" means idle longer than the stale timeout, both in the listing and in
 * cleanup, and cleanup closes the stale connection itself, not only its bookkeeping.
 *
 * Serving slots (`CPAN_BRIDGE_MAX_CONNECTIONS`): a connection takes a slot when one is free at
 * accept; one accepted over the limit reads its request and waits (bounded) for a slot
 * (`waitForSlot`), as clients of the Python daemon waited in the listen backlog. `whenBelow` lets
 * the accept loop stop accepting at the hard cap and resume as soon as a connection closes.
 */

import { localIso } from "../log/format.ts";

export interface TrackedConnection {
  readonly id: string;
  readonly startMs: number;
  lastActivityMs: number;
  requests: number;
  bytesReceived: number;
  bytesSent: number;
  /** Holds one of the serving slots. */
  slot: boolean;
  /**
   * Its request has been read: it is being served (helper call, reply) until it is removed. Never
   * stale: a long helper call is not idleness, and closing it would make the client run the call
   * again (bounded instead by the helper timeout and the write deadline).
   */
  busy: boolean;
  /** Closes the socket (used by cleanup of stale connections). */
  readonly close: () => void;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * A tracked connection. Its id (`_<seq>_<epoch float>`) is built only when something asks for it
 * (a report, a log line, a security event): a ping served without either costs no string.
 */
class Tracked implements TrackedConnection {
  readonly #seq: number;
  #id: string | undefined;
  readonly startMs: number;
  lastActivityMs: number;
  requests = 0;
  bytesReceived = 0;
  bytesSent = 0;
  slot = false;
  busy = false;
  readonly close: () => void;

  constructor(seq: number, nowMs: number, close: () => void) {
    this.#seq = seq;
    this.startMs = nowMs;
    this.lastActivityMs = nowMs;
    this.close = close;
  }

  get id(): string {
    return this.#id ??= `_${this.#seq}_${(this.startMs / 1000).toFixed(7)}`;
  }

  /** The connection as a security event's peer (`client_info` is its id). */
  get client(): string {
    return this.id;
  }
}

export class ConnectionTracker {
  readonly #live = new Set<TrackedConnection>();
  #seq = 0;
  #slots = 0;
  readonly #slotWaiters: Array<() => void> = [];
  readonly #sizeWaiters: Array<{ below: number; resolve: () => void }> = [];

  /** Connections holding a serving slot. */
  get serving(): number {
    return this.#slots;
  }

  /** Connections waiting for a slot. */
  get queued(): number {
    return this.#slotWaiters.length;
  }

  /** Takes a slot if fewer than `max` are held. */
  trySlot(c: TrackedConnection, max: number): boolean {
    if (c.slot) return true;
    if (this.#slots >= max) return false;
    this.#slots++;
    c.slot = true;
    return true;
  }

  /** Waits up to `ms` for a slot, first come first served; resolves whether it got one. */
  waitForSlot(c: TrackedConnection, max: number, ms: number): Promise<boolean> {
    if (this.#slotWaiters.length === 0 && this.trySlot(c, max)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(this.trySlot(c, max));
      };
      const timer = setTimeout(() => {
        const k = this.#slotWaiters.indexOf(wake);
        if (k >= 0) this.#slotWaiters.splice(k, 1);
        resolve(false);
      }, ms);
      this.#slotWaiters.push(wake);
    });
  }

  /** Gives a connection's slot back while it keeps being served (a throttled call waits). */
  yieldSlot(c: TrackedConnection): void {
    this.#releaseSlot(c);
  }

  #releaseSlot(c: TrackedConnection): void {
    if (!c.slot) return;
    c.slot = false;
    this.#slots--;
    this.#slotWaiters.shift()?.();
  }

  /** Resolves once fewer than `n` connections are tracked. */
  whenBelow(n: number): Promise<void> {
    if (this.#live.size < n) return Promise.resolve();
    return new Promise((resolve) => this.#sizeWaiters.push({ below: n, resolve }));
  }

  #shrunk(): void {
    for (let i = this.#sizeWaiters.length - 1; i >= 0; i--) {
      const w = this.#sizeWaiters[i]!;
      if (this.#live.size < w.below) {
        this.#sizeWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  get size(): number {
    return this.#live.size;
  }

  /** Registers a new connection; the id is `_<seq>_<epoch float>` (Unix sockets have no address). */
  open(nowMs: number, close: () => void): TrackedConnection & { readonly client: string } {
    const c = new Tracked(++this.#seq, nowMs, close);
    this.#live.add(c);
    return c;
  }

  /** Forgets a connection and frees its slot. */
  remove(c: TrackedConnection): void {
    this.#live.delete(c);
    this.#releaseSlot(c);
    this.#shrunk();
  }

  staleCount(nowMs: number, staleMs: number): number {
    let n = 0;
    for (const c of this.#live.values()) if (!c.busy && nowMs - c.lastActivityMs > staleMs) n++;
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
        status: !c.busy && idle * 1000 > staleMs ? "stale" : "active",
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
      // DEFECT-FIX: only a connection still sending its request can be stale.
      if (!c.busy && idle * 1000 > staleMs) {
        details.push({ connection_id: c.id, idle_time: idle });
        this.#live.delete(c);
        this.#shrunk();
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
