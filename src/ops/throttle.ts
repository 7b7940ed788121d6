/**
 * @module
 * Throttling of helper calls (contract §6.4). DEFECT-FIX D2: the Python daemon throttled by not
 * accepting connections for 1 s, which made pings fail and clients start rival daemons. Here the
 * accept loop never sleeps; `test.*` and `system.*` are never throttled (they never reach this
 * class); a helper call over the concurrency limit, or over the optional per-minute budget
 * (`CPAN_BRIDGE_THROTTLE_PER_MINUTE`, off by default), waits in a bounded queue and, past
 * `throttleWait`, gets a clear "Server busy" error.
 *
 * Fairness: calls are keyed by client (the PID claimed in `request_id`, else the connection; see
 * `CallerScope`). A freed slot goes to the waiting client that uses least (running calls, then
 * calls waiting, then calls in the window), not to the oldest waiter, so one client with many
 * concurrent calls cannot make another wait behind its queue. Under a per-minute budget, a
 * client past its fair share (budget ÷ clients seen in the window) may only take what the other
 * clients' unused shares leave. A client first seen while the window is full waits for the next
 * slot to leave the window, ahead of the clients that used more.
 */

import { serverBusy } from "../errors.ts";

/**
 * Who is calling, for the request being handled (server/connection.ts gives it to dispatch, which
 * passes it here). Passed explicitly: an AsyncLocalStorage around every request cost the socket
 * thread a context switch on every promise of every request.
 */
export interface CallerScope {
  /** Fairness key: `pid:<claimed PID>` or `conn:<connection id>`. */
  readonly client: string;
  /** Called once when the call has to wait: the connection gives up its serving slot meanwhile. */
  readonly onWait?: () => void;
}

/** Throttle settings. */
export interface ThrottleOptions {
  /** Helper calls running at once. */
  readonly maxConcurrent: number;
  /** Helper calls admitted per 60 s, shared fairly between clients; 0: no budget. */
  readonly maxPerMinute: number;
  /** Milliseconds a call may wait before "Server busy". */
  readonly waitMs: number;
}

interface Waiter {
  readonly client: string;
  readonly wake: () => void;
}

const WINDOW_MS = 60_000;

/** Lexicographic a < b. */
function less(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! !== (b[i] ?? Infinity)) return a[i]! < (b[i] ?? Infinity);
  }
  return false;
}

export class Throttle {
  readonly #maxConcurrent: number;
  readonly #maxPerMinute: number;
  readonly #waitMs: number;
  readonly #now: () => number;
  #active = 0;
  readonly #activeBy = new Map<string, number>();
  /** Calls counted per second, for `requests_per_minute` (all helper calls, budget or not). */
  readonly #buckets = new Array<number>(60).fill(0);
  #bucketSecond = 0;
  /** Admissions in the last 60 s, oldest first; kept only under a budget (at most the budget). */
  readonly #admitted: Array<{ at: number; client: string }> = [];
  readonly #windowBy = new Map<string, number>();
  readonly #waiters: Waiter[] = [];
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: ThrottleOptions, now: () => number) {
    this.#maxConcurrent = opts.maxConcurrent;
    this.#maxPerMinute = opts.maxPerMinute;
    this.#waitMs = opts.waitMs;
    this.#now = now;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  #roll(): void {
    const s = Math.floor(this.#now() / 1000);
    if (s - this.#bucketSecond >= 60) this.#buckets.fill(0);
    else for (let t = this.#bucketSecond + 1; t <= s; t++) this.#buckets[t % 60] = 0;
    this.#bucketSecond = Math.max(this.#bucketSecond, s);
  }

  /** Helper calls counted in the last 60 s. */
  perMinute(): number {
    this.#roll();
    return this.#buckets.reduce((a, b) => a + b, 0);
  }

  /** Counts one request in the per-minute window without taking a slot. */
  count(): void {
    this.#roll();
    this.#buckets[this.#bucketSecond % 60]!++;
  }

  #expire(): void {
    const cut = this.#now() - WINDOW_MS;
    while (this.#admitted.length > 0 && this.#admitted[0]!.at <= cut) {
      const { client } = this.#admitted.shift()!;
      const n = (this.#windowBy.get(client) ?? 1) - 1;
      if (n > 0) this.#windowBy.set(client, n);
      else this.#windowBy.delete(client);
    }
  }

  /** Whether `client` may start a call now. */
  #mayStart(client: string): boolean {
    if (this.#active >= this.#maxConcurrent) return false;
    const cap = this.#maxPerMinute;
    if (cap <= 0) return true;
    this.#expire();
    const total = this.#admitted.length;
    if (total >= cap) return false;
    const mine = this.#windowBy.get(client) ?? 0;
    const clients = this.#windowBy.size + (this.#windowBy.has(client) ? 0 : 1);
    const share = Math.max(1, Math.floor(cap / clients));
    if (mine < share) return true;
    let reserved = 0;
    for (const [k, n] of this.#windowBy) if (k !== client) reserved += Math.max(0, share - n);
    return total + reserved < cap;
  }

  /** How much a client uses: running calls, then calls waiting, then calls in the window. */
  #usage(client: string): number[] {
    let waiting = 0;
    for (const w of this.#waiters) if (w.client === client) waiting++;
    return [this.#activeBy.get(client) ?? 0, waiting, this.#windowBy.get(client) ?? 0];
  }

  /** Wakes waiters that may start now, least-using client first. */
  #grant(): void {
    for (;;) {
      let best: Waiter | undefined;
      let bestUse = [Infinity];
      for (const w of this.#waiters) {
        if (!this.#mayStart(w.client)) continue;
        const u = this.#usage(w.client);
        if (less(u, bestUse)) {
          best = w;
          bestUse = u;
        }
      }
      if (!best) break;
      this.#waiters.splice(this.#waiters.indexOf(best), 1);
      this.#start(best.client);
      best.wake();
    }
    this.#armExpiry();
  }

  /** Under a budget, re-checks the waiters when the oldest admission leaves the window. */
  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (this.#waiters.length === 0 || this.#admitted.length === 0) return;
    const ms = Math.max(1, this.#admitted[0]!.at + WINDOW_MS - this.#now() + 1);
    this.#expiryTimer = setTimeout(() => this.#grant(), ms);
  }

  #start(client: string): void {
    this.#active++;
    this.#activeBy.set(client, (this.#activeBy.get(client) ?? 0) + 1);
    if (this.#maxPerMinute > 0) {
      this.#admitted.push({ at: this.#now(), client });
      this.#windowBy.set(client, (this.#windowBy.get(client) ?? 0) + 1);
    }
    this.count();
  }

  #release(client: string): void {
    this.#active--;
    const n = (this.#activeBy.get(client) ?? 1) - 1;
    if (n > 0) this.#activeBy.set(client, n);
    else this.#activeBy.delete(client);
    this.#grant();
  }

  /**
   * Waits for a slot. Resolves to a release function, and `waited` true when the call had to wait.
   * `client`: the fairness key (`CallerScope.client`); `onWait`: called once if the call waits.
   *
   * @throws {WireError} BusyError "Server busy: …" after the bounded wait
   */
  async acquire(
    signal?: AbortSignal,
    client = "",
    onWait?: () => void,
  ): Promise<{ release: () => void; waited: boolean }> {
    let waited = false;
    // Waiters that may start are woken at once (#grant), so a new call never jumps a queue.
    if (!this.#mayStart(client)) {
      waited = true;
      onWait?.();
      const granted = await new Promise<boolean>((resolve) => {
        const w: Waiter = {
          client,
          wake: () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", giveUp);
            resolve(true);
          },
        };
        const giveUp = () => {
          const k = this.#waiters.indexOf(w);
          if (k < 0) return;
          this.#waiters.splice(k, 1);
          signal?.removeEventListener("abort", giveUp);
          clearTimeout(timer);
          if (this.#waiters.length === 0) this.#armExpiry(); // nobody left to wake
          resolve(false);
        };
        const timer = setTimeout(giveUp, this.#waitMs);
        signal?.addEventListener("abort", giveUp, { once: true });
        this.#waiters.push(w);
        this.#grant();
      });
      if (!granted) throw serverBusy(this.#why());
    } else {
      this.#start(client);
    }
    let released = false;
    return {
      waited,
      release: () => {
        if (released) return;
        released = true;
        this.#release(client);
      },
    };
  }

  #why(): string {
    return this.#active >= this.#maxConcurrent
      ? `${this.#active} helper calls running (CPAN_BRIDGE_MAX_CONCURRENT_REQUESTS=${this.#maxConcurrent})`
      : `more than ${this.#maxPerMinute} helper calls in the last minute (CPAN_BRIDGE_THROTTLE_PER_MINUTE); calls are shared fairly between clients`;
  }
}
