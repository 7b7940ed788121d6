/**
 * Tests of `HeapTrim` (src/heap_trim.ts) with a simulated heap and clock: when it collects,
 * the follow-up collection after one that freed much, and the heap trim task's log line. A last
 * test runs a real collection in a runtime started with `--expose-gc`.
 */

import assert from "node:assert/strict";
import { HeapTrim } from "../../src/heap_trim.ts";
import { heapTrimTask } from "../../src/daemon/housekeeping.ts";
import { protocolContext } from "./protocol/_context.ts";

const MB = 1024 * 1024;

/** A heap that grows when told to and that a collection brings down to its live part. */
function simulated(live: number) {
  const heap = { used: live, live, collections: 0, now: 0 };
  const trim = new HeapTrim({
    collect: () => {
      heap.collections++;
      heap.used = heap.live;
    },
    inUse: () => heap.used,
    now: () => heap.now,
    growthBytes: 8 * MB,
    settleMs: 10_000,
  });
  return { heap, trim };
}

Deno.test("HeapTrim.tick() behaviour: no collection while the heap grows less than the threshold", () => {
  const { heap, trim } = simulated(10 * MB);
  for (let i = 0; i < 7; i++) {
    heap.used += MB;
    heap.now += 1000;
    assert.deepEqual(trim.tick(), { collected: false });
  }
  assert.equal(heap.collections, 0);
});

Deno.test("HeapTrim.tick() behaviour: growth past the threshold collects, once, and growth counts from after it", () => {
  const { heap, trim } = simulated(10 * MB);
  heap.used += 8 * MB;
  assert.deepEqual(trim.tick(), { collected: true, before: 18 * MB, after: 10 * MB });
  assert.equal(trim.tick().collected, false, "nothing grew since");
  heap.live += 20 * MB; // live data grew (handles, requests in flight): not garbage
  heap.used = heap.live;
  heap.now += 1000;
  assert.equal(trim.tick().collected, true);
  assert.equal(trim.tick().collected, false, "the new live size is the base");
  assert.equal(heap.collections, 2);
});

Deno.test("HeapTrim.tick() behaviour: a collection that freed much is followed by one more after settleMs, then none", () => {
  const { heap, trim } = simulated(10 * MB);
  heap.used += 100 * MB;
  assert.equal(trim.tick().collected, true);
  heap.now += 9_999;
  assert.equal(trim.tick().collected, false, "before the settle time");
  heap.now += 1;
  assert.deepEqual(trim.tick(), { collected: true, before: 10 * MB, after: 10 * MB });
  heap.now += 60_000;
  assert.equal(trim.tick().collected, false, "the follow-up freed nothing: no further one");
  assert.equal(heap.collections, 2);
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

Deno.test("heapTrimTask() behaviour: runs the collection when the heap grew and logs it at DEBUG", async () => {
  const { d, lines, close } = protocolContext({ CPAN_BRIDGE_DEBUG: "1" });
  try {
    let collections = 0;
    let garbage: number[][] = [];
    const task = heapTrimTask(d, () => {
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
    gc();
    console.log(before - Deno.memoryUsage().heapUsed > 4 * 1024 * 1024 ? "freed" : "kept", junk.length);
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
  assert.equal(await run(["--v8-flags=--expose-gc"]), "freed 0");
  assert.equal(await run([]), "absent");
});
