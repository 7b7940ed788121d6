/**
 * @module
 * The time source: production code reads time through a `Clock` so tests can pass a fake one
 * (tests/_support/fake_clock.ts) and never sleep.
 */

/** Milliseconds since the epoch, like `Date.now()`. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
