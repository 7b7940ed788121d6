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

Deno.test("PerformanceMonitor.metrics() behaviour: the figures of the last 1000 records, the latency of the last 100, at every fill of the ring", () => {
  // A small deterministic generator: durations, outcomes and times vary, some older than a minute.
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const count of [0, 1, 2, 99, 100, 101, 999, 1000, 1001, 1999, 2500]) {
    const perf = new PerformanceMonitor(1_000);
    const all: Array<{ t: number; duration: number; success: boolean }> = [];
    let now = 1_000;
    for (let i = 0; i < count; i++) {
      now += Math.floor(rand() * 200);
      const r = { t: now, duration: rand() * 0.05, success: rand() > 0.2 };
      all.push(r);
      perf.record(r.t, i % 3 ? "a.f" : "b.g", r.duration, r.success, r.success ? undefined : "x");
    }
    const window = all.slice(-1000);
    const last = window.slice(-100);
    const d = last.map((r) => r.duration).sort((a, b) => a - b);
    const n = d.length;
    const sum = d.reduce((a, b) => a + b, 0);
    assert.deepEqual(perf.metrics(now), {
      total_requests: count,
      successful_requests: all.filter((r) => r.success).length,
      failed_requests: all.filter((r) => !r.success).length,
      avg_response_time: n ? sum / n : 0,
      p95_response_time: n ? d[Math.min(n - 1, Math.floor(n * 0.95))] : 0,
      p99_response_time: n ? d[Math.min(n - 1, Math.floor(n * 0.99))] : 0,
      requests_per_second: window.filter((r) => now - r.t <= 60_000).length / 60,
      error_rate: n ? last.filter((r) => !r.success).length / n : 0,
      uptime_seconds: (now - 1_000) / 1000,
    }, `${count} records`);
  }
});
