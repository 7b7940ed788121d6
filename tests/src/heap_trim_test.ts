/**
 * Tests of `HeapTrim` (src/heap_trim.ts) with a simulated heap and clock: when each rule collects
 * (growth: a regular collection; traffic stopped: one thorough one), and the heap trim task's log
 * line. A last test runs both kinds of real collection in a runtime started with `--expose-gc`.
 */

import assert from "node:assert/strict";
import { HeapTrim } from "../../src/heap_trim.ts";
import { heapTrimTask } from "../../src/daemon/housekeeping.ts";
import { protocolContext } from "./protocol/_context.ts";

const MB = 1024 * 1024;

/**
 * A heap that grows when told to and that a collection brings down to its live part; `requests`
 * is the activity count the quiet rule watches (2 s quiet, 1 MB of growth).
 */
function simulated(live: number, withActivity = true) {
  const heap = { used: live, live, now: 0, requests: 0, kinds: [] as string[] };
  const trim = new HeapTrim({
    collect: (thorough) => {
      heap.kinds.push(thorough ? "thorough" : "regular");
      heap.used = heap.live;
    },
    inUse: () => heap.used,
    now: () => heap.now,
    growthBytes: 8 * MB,
    activity: withActivity ? () => heap.requests : undefined,
    quietMs: 2_000,
    quietBytes: MB,
  });
  /** One janitor tick, `ms` after the last; `requests` served in between. */
  const tick = (ms = 1000, requests = 0) => {
    heap.now += ms;
    heap.requests += requests;
    return trim.tick();
  };
  return { heap, trim, tick };
}

Deno.test("HeapTrim.tick() behaviour: no collection while the heap grows less than the threshold", () => {
  const { heap, tick } = simulated(10 * MB);
  for (let i = 0; i < 7; i++) {
    heap.used += MB;
    assert.deepEqual(tick(), { collected: false });
  }
  assert.deepEqual(heap.kinds, []);
});

Deno.test("HeapTrim.tick() behaviour: growth past the threshold collects (regular), once, and growth counts from after it", () => {
  const { heap, trim, tick } = simulated(10 * MB);
  heap.used += 8 * MB;
  assert.deepEqual(trim.tick(), {
    collected: true,
    thorough: false,
    before: 18 * MB,
    after: 10 * MB,
  });
  assert.equal(trim.tick().collected, false, "nothing grew since");
  heap.live += 20 * MB; // live data grew (handles, requests in flight): not garbage
  heap.used = heap.live;
  assert.equal(tick().collected, true);
  assert.equal(trim.tick().collected, false, "the new live size is the base");
  assert.deepEqual(heap.kinds, ["regular", "regular"]);
});

Deno.test("HeapTrim.tick() behaviour: when V8 collected on its own, growth is measured from the lower heap", () => {
  const { heap, trim } = simulated(10 * MB);
  heap.used = 30 * MB;
  trim.tick(); // collects: base 10 MB
  heap.used = 17 * MB;
  assert.equal(trim.tick().collected, false);
  heap.used = 6 * MB; // V8's own collection, below the base
  assert.equal(trim.tick().collected, false);
  heap.used = 14 * MB; // 8 MB over the new base
  assert.equal(trim.tick().collected, true);
});

Deno.test("HeapTrim.tick() behaviour: when traffic stops, one thorough collection quietMs after the last request", () => {
  const { heap, tick } = simulated(10 * MB);
  for (let i = 0; i < 5; i++) assert.equal(tick().collected, false, "idle from the start");
  for (let i = 0; i < 10; i++) { // a load: requests every tick, the heap under the threshold
    heap.used += MB / 2;
    assert.equal(tick(1000, 500).collected, false, `during the load (${i})`);
  }
  assert.equal(tick().collected, false, "1 s after the last request");
  assert.deepEqual(tick(), { collected: true, thorough: true, before: 15 * MB, after: 10 * MB });
  for (let i = 0; i < 60; i++) assert.equal(tick().collected, false, `still quiet (${i})`);
  heap.used += MB / 4; // a probe's ping: too little garbage to collect for
  assert.equal(tick(1000, 1).collected, false);
  for (let i = 0; i < 10; i++) assert.equal(tick().collected, false, `after a ping (${i})`);
  heap.used += MB; // more traffic: collected once it is quiet again
  assert.equal(tick(1000, 100).collected, false);
  assert.equal(tick(2000).collected, true);
  assert.deepEqual(heap.kinds, ["thorough", "thorough"]);
});

Deno.test("HeapTrim.tick() behaviour: after growth collections under load, a thorough one when the load stops", () => {
  const { heap, tick } = simulated(10 * MB);
  for (let i = 0; i < 6; i++) { // large requests: the growth rule collects every other tick
    heap.used += 5 * MB;
    tick(1000, 10);
  }
  assert.deepEqual(heap.kinds, ["regular", "regular", "regular"]);
  assert.equal(tick().collected, false);
  // Nothing grew since the last growth collection, but its freed pages may sit in V8's pool.
  assert.deepEqual(tick(), { collected: true, thorough: true, before: 10 * MB, after: 10 * MB });
  for (let i = 0; i < 30; i++) assert.equal(tick().collected, false, `quiet (${i})`);
});

Deno.test("HeapTrim.tick() behaviour: without an activity count there is no quiet rule", () => {
  const { heap, tick } = simulated(10 * MB, false);
  heap.used += 5 * MB;
  for (let i = 0; i < 30; i++) tick();
  assert.deepEqual(heap.kinds, []);
});

Deno.test("heapTrimTask() behaviour: runs the collection when the heap grew and logs it at DEBUG", async () => {
  const { d, lines, close } = protocolContext({ CPAN_BRIDGE_DEBUG: "1" });
  try {
    let collections = 0;
    let garbage: number[][] = [];
    const task = heapTrimTask(d, (thorough) => {
      assert.equal(thorough, false, "the growth rule's collection");
      collections++;
      garbage = [];
    });
    assert.equal(task.name, "heap trim");
    // 16 MB of objects on the heap.
    garbage = Array.from({ length: 16 }, () => Array.from({ length: 131_072 }, (_, i) => i));
    await task.run();
    assert.equal(collections, 1);
    assert.ok(
      lines.some((l) => /^debug: Heap collected: [\d.]+ MB in use before, [\d.]+ after$/.test(l)),
      lines.join("\n"),
    );
    assert.equal(garbage.length, 0);
  } finally {
    await close();
  }
});

Deno.test("heapTrimTask() behaviour: buffers outside the heap (a large request's chunks) count as growth too", async () => {
  const { d, close } = protocolContext({});
  try {
    let collections = 0;
    let buffers: Uint8Array[] = [];
    const task = heapTrimTask(d, () => {
      collections++;
      buffers = [];
    });
    buffers = Array.from({ length: 16 }, () => new Uint8Array(1024 * 1024).fill(1));
    await task.run();
    assert.equal(collections, 1, "16 MB of ArrayBuffer memory started a collection");
    assert.equal(buffers.length, 0);
  } finally {
    await close();
  }
});

Deno.test("exposedGc() behaviour: V8's gc() in a runtime with --expose-gc frees the garbage, absent without", async () => {
  const deno = Deno.execPath();
  const probe = `
    import { exposedGc } from ${
    JSON.stringify(new URL("../../src/heap_trim.ts", import.meta.url).href)
  };
    const gc = exposedGc();
    if (!gc) { console.log("absent"); Deno.exit(0); }
    let junk = Array.from({ length: 200_000 }, (_, i) => ({ i, s: "x" + i }));
    const before = Deno.memoryUsage().heapUsed;
    junk = [];
    gc(false);
    const freed = before - Deno.memoryUsage().heapUsed > 4 * 1024 * 1024 ? "freed" : "kept";
    junk = Array.from({ length: 200_000 }, (_, i) => ({ i, s: "y" + i }));
    const again = Deno.memoryUsage().heapUsed;
    junk = [];
    gc(true);
    const thorough = again - Deno.memoryUsage().heapUsed > 4 * 1024 * 1024 ? "freed" : "kept";
    console.log(freed, thorough, junk.length);
  `;
  const run = async (flags: string[]) => {
    const out = await new Deno.Command(deno, {
      args: ["eval", ...flags, probe],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(out.code, 0);
    return new TextDecoder().decode(out.stdout).trim();
  };
  assert.equal(await run(["--v8-flags=--expose-gc"]), "freed freed 0");
  assert.equal(await run([]), "absent");
});
