/**
 * `IdleDeadline` (one shared timer for every read's deadlines): the idle timeout moves with
 * activity, the total deadline does not, a cleared deadline never fires, and deadlines of
 * different lengths each fire at their own time.
 */

import assert from "node:assert/strict";
import { IdleDeadline, MAX_TIMER_MS } from "../../../src/wire/idle_deadline.ts";

const never = new Promise<"pending">(() => {});
const state = (d: IdleDeadline) => Promise.race([d.expired, never]);

Deno.test("IdleDeadline behaviour: idle fires after ms without activity; touch() moves it", async () => {
  const t0 = performance.now();
  const d = new IdleDeadline(60);
  await new Promise((r) => setTimeout(r, 40));
  d.touch(); // activity: now due 60 ms from here
  assert.equal(await d.expired, "timeout");
  const took = performance.now() - t0;
  assert.ok(took >= 95 && took < 1000, `${took} ms`);
});

Deno.test("IdleDeadline behaviour: the total deadline wins over activity", async () => {
  const d = new IdleDeadline(1000, 80);
  const ticker = setInterval(() => d.touch(), 10);
  try {
    assert.equal(await d.expired, "deadline");
  } finally {
    clearInterval(ticker);
  }
});

Deno.test("IdleDeadline behaviour: a cleared deadline never fires; others keep their own time", async () => {
  const cleared = new IdleDeadline(30);
  cleared.clear();
  const long = new IdleDeadline(150);
  const short = new IdleDeadline(40);
  const t0 = performance.now();
  assert.equal(await short.expired, "timeout");
  assert.ok(performance.now() - t0 < 140, "the short one is not held back by the long one");
  assert.equal(await long.expired, "timeout");
  const settled = await Promise.race([
    state(cleared),
    new Promise((r) => setTimeout(() => r("pending"), 20)),
  ]);
  assert.equal(settled, "pending");
});

Deno.test("IdleDeadline behaviour: a deadline beyond setTimeout's 32-bit limit arms a timer within it", () => {
  const real = globalThis.setTimeout;
  const delays: number[] = [];
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return real(fn, ms);
  }) as typeof setTimeout;
  let d: IdleDeadline | undefined;
  try {
    d = new IdleDeadline(3e9); // ~35 days: a longer delay makes setTimeout fire at once
  } finally {
    globalThis.setTimeout = real;
    d?.clear();
  }
  assert.ok(delays.length > 0, "no timer armed");
  assert.ok(delays.every((ms) => ms <= MAX_TIMER_MS), `delays ${delays}`);
  assert.equal(MAX_TIMER_MS, 2 ** 31 - 1);
});
