/**
 * Tests of `PerformanceMonitor`'s bounds: the error ring keeps the last RECENT_ERRORS failures,
 * each with its text cut to KEPT_TEXT_BYTES, and hands out copies.
 */

import assert from "node:assert/strict";
import { PerformanceMonitor, RECENT_ERRORS } from "../../../src/ops/performance.ts";
import { KEPT_TEXT_BYTES } from "../../../src/ops/ring.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;

Deno.test("PerformanceMonitor.recentErrors() behaviour: the last failures, oldest first, texts bounded", () => {
  const p = new PerformanceMonitor(0);
  const long = "e".repeat(61_440);
  const n = RECENT_ERRORS + 250;
  for (let i = 0; i < n; i++) {
    p.record(i * 1000, "datetime_helper.now", 0.001, false, `${i}: ${long}`);
    p.record(i * 1000 + 1, "test.echo", 0.001, true); // successes are not kept as errors
  }
  const all = p.recentErrors(n);
  assert.equal(all.length, RECENT_ERRORS);
  assert.deepEqual(
    all.map((e) => e.timestamp),
    Array.from({ length: RECENT_ERRORS }, (_, k) => n - RECENT_ERRORS + k),
  );
  for (const e of all) {
    assert.deepEqual(Object.keys(e), ["timestamp", "module_function", "error", "duration_ms"]);
    assert.ok(bytes(e.error) <= KEPT_TEXT_BYTES, `${bytes(e.error)} bytes`);
    assert.match(e.error, /^\d+: e+ … \[\d+ characters, cut to 512 bytes\]$/);
  }
  const ten = p.recentErrors(10);
  assert.deepEqual(ten, all.slice(-10));
  ten[0]!.error = "changed";
  assert.notEqual(p.recentErrors(10)[0]!.error, "changed", "the ring handed out its own entry");
  // A short text is kept as it is.
  p.record(n * 1000, "m.f", 0.002, false, "Function not allowed: m.f");
  assert.deepEqual(p.recentErrors(1), [{
    timestamp: n,
    module_function: "m.f",
    error: "Function not allowed: m.f",
    duration_ms: 2,
  }]);
  assert.equal(p.metrics(n * 1000).failed_requests, n + 1);
});
