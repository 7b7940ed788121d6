/**
 * @module
 * A clock that only moves when told to, for TTL, sweep and janitor tests: pass it where
 * production code takes a `Clock`, then `advance()` instead of sleeping.
 */

import type { Clock } from "../../src/sdk/clock.ts";

/** A `Clock` whose time is set by the test. */
export class FakeClock implements Clock {
  #t: number;
  constructor(start = 1_700_000_000_000) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  /** Moves the time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#t += ms;
  }
}
