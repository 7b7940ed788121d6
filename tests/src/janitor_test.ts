/**
 * Tests of `Janitor` (src/janitor.ts), driven by a fake clock and explicit `tick()` calls: tick
 * order, periods, a failing task, and an async task that is still running.
 */

import assert from "node:assert/strict";
import { FakeClock } from "../_support/fake_clock.ts";
import { Janitor, type JanitorTask } from "../../src/janitor.ts";

function setup(tasks: (ran: string[]) => JanitorTask[]) {
  const clock = new FakeClock();
  const ran: string[] = [];
  const errors: string[] = [];
  const janitor = new Janitor(tasks(ran), clock, (m) => errors.push(m));
  return { clock, ran, errors, janitor };
}

const task = (ran: string[], name: string, periodMs: number): JanitorTask => ({
  name,
  periodMs,
  run: () => void ran.push(name),
});

Deno.test("Janitor.tick() behaviour: each task at its own period, in the given order", async () => {
  const { clock, ran, janitor } = setup((ran) => [
    task(ran, "a", 2000),
    task(ran, "b", 5000),
    task(ran, "c", 2000),
  ]);
  await janitor.tick();
  assert.deepEqual(ran, [], "nothing runs before its first period");
  const seen: string[] = [];
  for (let s = 1; s <= 10; s++) {
    clock.advance(1000);
    ran.length = 0;
    await janitor.tick();
    seen.push(`${s}:${ran.join("")}`);
  }
  assert.deepEqual(seen, ["1:", "2:ac", "3:", "4:ac", "5:b", "6:ac", "7:", "8:ac", "9:", "10:abc"]);
});

Deno.test("Janitor.tick() behaviour: a late tick runs a task once and counts its period from then", async () => {
  const { clock, ran, janitor } = setup((ran) => [task(ran, "a", 1000)]);
  clock.advance(10_500);
  await janitor.tick();
  assert.deepEqual(ran, ["a"]);
  clock.advance(999);
  await janitor.tick();
  assert.deepEqual(ran, ["a"]);
  clock.advance(1);
  await janitor.tick();
  assert.deepEqual(ran, ["a", "a"]);
});

Deno.test("Janitor.tick() behaviour: after the clock steps back, a task waits one period, not the step", async () => {
  const { clock, ran, janitor } = setup((ran) => [task(ran, "a", 1000)]);
  clock.advance(1000);
  await janitor.tick();
  clock.advance(-3_600_000); // NTP steps the wall clock back an hour
  await janitor.tick();
  clock.advance(1000);
  await janitor.tick();
  assert.deepEqual(ran, ["a", "a"]);
});

Deno.test("Janitor.tick() behaviour: a throwing or rejecting task is logged and the others still run", async () => {
  let calls = 0;
  const { clock, ran, errors, janitor } = setup((ran) => [
    {
      name: "thrower",
      periodMs: 1000,
      run: () => {
        calls++;
        throw new Error("disk gone");
      },
    },
    {
      name: "rejecter",
      periodMs: 1000,
      run: () => Promise.reject(new Error("worker gone")),
    },
    task(ran, "after", 1000),
  ]);
  for (let i = 0; i < 3; i++) {
    clock.advance(1000);
    await janitor.tick();
  }
  assert.equal(calls, 3, "the failing task runs again at its next period");
  assert.deepEqual(ran, ["after", "after", "after"]);
  assert.deepEqual(errors.slice(0, 2), [
    "Background task thrower failed: disk gone",
    "Background task rejecter failed: worker gone",
  ]);
  assert.equal(errors.length, 6);
});

Deno.test("Janitor.tick() behaviour: an async task still running is not started again; others go on", async () => {
  let release: () => void = () => {};
  let starts = 0;
  const { clock, ran, janitor } = setup((ran) => [
    {
      name: "slow sweep",
      periodMs: 1000,
      run: () => {
        starts++;
        return new Promise<void>((r) => (release = r));
      },
    },
    task(ran, "sample", 1000),
  ]);
  clock.advance(1000);
  const first = janitor.tick();
  for (let i = 0; i < 3; i++) {
    clock.advance(1000);
    await janitor.tick(); // resolves although the sweep started by the first tick is still running
  }
  assert.equal(starts, 1);
  assert.deepEqual(ran, ["sample", "sample", "sample", "sample"]);
  release();
  await first;
  clock.advance(1000);
  void janitor.tick();
  assert.equal(starts, 2, "it runs again once the earlier run has settled");
  release();
});

Deno.test("Janitor.tickMs behaviour: the shortest period, between 50 ms and 1 s", () => {
  const clock = new FakeClock();
  const mk = (...periods: number[]) =>
    new Janitor(periods.map((p) => ({ name: `${p}`, periodMs: p, run: () => {} })), clock, () => {})
      .tickMs;
  assert.equal(mk(2000, 60_000), 1000);
  assert.equal(mk(2000, 100), 100);
  assert.equal(mk(10), 50);
});

Deno.test("Janitor.start() behaviour: one timer runs the due tasks; stop() ends it", async () => {
  const janitor = new Janitor(
    [{ name: "t", periodMs: 50, run: () => void hits.push(Date.now()) }],
    { now: () => Date.now() },
    () => {},
  );
  const hits: number[] = [];
  janitor.start();
  janitor.start(); // idempotent: still one timer
  const deadline = Date.now() + 10_000;
  while (hits.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  janitor.stop();
  assert.ok(hits.length >= 2, `ran ${hits.length} times`);
  const after = hits.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(hits.length, after, "ran after stop()");
});
