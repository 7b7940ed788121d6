/**
 * @module
 * The time source: production code reads time through a `Clock` so tests can pass a fake one
 * and never sleep.
 */

/** Milliseconds since the epoch, like `Date.now()`. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to, for TTL and janitor tests. */
export class FakeClock implements Clock {
  #t: number;
  constructor(start = 1_700_000_000_000) {
    this.#t = start;
  }
  now(): number {
    return this.#t;
  }
  advance(ms: number): void {
    this.#t += ms;
  }
}
