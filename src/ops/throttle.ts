/**
 * @module
 * Throttling of helper calls (contract §6.4). DEFECT-FIX D2: the Python daemon throttled by not
 * accepting connections for 1 s, which made pings fail and clients start rival daemons. Here the
 * accept loop never sleeps; `test.*` and `system.*` are never throttled; a helper call over the
 * concurrency or per-minute limit waits in a bounded queue and, past `throttleWait`, gets a clear
 * "Server busy" error.
 */

import { serverBusy } from "../errors.ts";

export class Throttle {
  readonly #maxConcurrent: number;
  readonly #maxPerMinute: number;
  readonly #waitMs: number;
  readonly #now: () => number;
  #active = 0;
  readonly #buckets = new Array<number>(60).fill(0);
  #bucketSecond = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(
    opts: { maxConcurrent: number; maxPerMinute: number; waitMs: number },
    now: () => number,
  ) {
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

  /** Calls counted in the last 60 s. */
  perMinute(): number {
    this.#roll();
    return this.#buckets.reduce((a, b) => a + b, 0);
  }

  /** Counts one request in the per-minute window without taking a slot. */
  count(): void {
    this.#roll();
    this.#buckets[this.#bucketSecond % 60]!++;
  }

  #free(): boolean {
    return this.#active < this.#maxConcurrent && this.perMinute() < this.#maxPerMinute;
  }

  /**
   * Waits for a slot. Resolves to a release function, and `waited` true when the call had to wait.
   *
   * @throws {WireError} BusyError "Server busy: …" after the bounded wait
   */
  async acquire(signal?: AbortSignal): Promise<{ release: () => void; waited: boolean }> {
    let waited = false;
    const deadline = this.#now() + this.#waitMs;
    while (!this.#free()) {
      waited = true;
      const left = deadline - this.#now();
      if (left <= 0 || signal?.aborted) {
        throw serverBusy(
          this.#active >= this.#maxConcurrent
            ? `${this.#active} helper calls running (CPAN_BRIDGE_MAX_CONCURRENT_REQUESTS=${this.#maxConcurrent})`
            : `more than ${this.#maxPerMinute} helper calls in the last minute (CPAN_BRIDGE_MAX_REQUESTS_PER_MINUTE)`,
        );
      }
      // Wake on a release, or re-check the per-minute window every 250 ms.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          const k = this.#waiters.indexOf(done);
          if (k >= 0) this.#waiters.splice(k, 1);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 250));
        this.#waiters.push(done);
      });
    }
    this.#active++;
    this.count();
    let released = false;
    return {
      waited,
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        this.#waiters.shift()?.();
      },
    };
  }
}
