/**
 * Tests of `prometheusText()` on a fixed daemon snapshot: real counters and monitors driven by a
 * clock that does not move, so every byte of the exposition is known. The expected text is
 * `tests/testdata/metrics/prometheus_snapshot.txt`, captured from the hand-written exposition
 * before it became a table; `@NAME@` marks the facts of the runtime that runs the test.
 */

import assert from "node:assert/strict";
import { METRICS, prometheusText } from "../../../src/http/prometheus.ts";
import type { DaemonContext } from "../../../src/daemon_context.ts";
import type { HelperHost } from "../../../src/host/types.ts";
import type { LineLogger, Logs } from "../../../src/log/mod.ts";
import { loadConfig } from "../../../src/config.ts";
import { BUILD_INFO } from "../../../src/build_info.ts";
import { PROTOCOL_VERSION, VERSION } from "../../../src/version.ts";
import { ConnectionTracker } from "../../../src/ops/connections.ts";
import { PerformanceMonitor } from "../../../src/ops/performance.ts";
import { ResourceMonitor } from "../../../src/ops/resources.ts";
import { SecurityMonitor } from "../../../src/ops/security.ts";
import { Stats } from "../../../src/ops/stats.ts";
import { Throttle } from "../../../src/ops/throttle.ts";

const SNAPSHOT = new URL("../../testdata/metrics/prometheus_snapshot.txt", import.meta.url);
const T0 = 1_780_000_000_000;
const NOW = T0 + 90_500;

const silent: LineLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  critical() {},
};

function fileStats(path: string, dropped: number) {
  return { path, written: 10, dropped, rotations: 0, queued: 0, lastError: null };
}

/** A daemon context whose every figure is fixed. */
function fixedContext(): DaemonContext {
  const clock = { now: () => NOW };
  const config = loadConfig({ CPAN_BRIDGE_STALE_TIMEOUT: "120" });
  const stats = new Stats(T0);
  Object.assign(stats, {
    requestsProcessed: 41,
    requestsFailed: 7,
    requestsRejected: 3,
    validationFailures: 2,
    connectionsTotal: 52,
    connectionsRejected: 1,
    peakConnections: 9,
    helperTimeouts: 1,
    throttled: 4,
    throttleRefused: 2,
  });
  const perf = new PerformanceMonitor(T0);
  perf.record(NOW - 1000, "test.echo", 0.002, true);
  perf.record(NOW - 900, "test.echo", 0.004, true);
  perf.record(NOW - 800, "datetime_helper.now", 0.03, true);
  perf.record(NOW - 700, "database.execute", 1.5, false, "boom");
  perf.record(NOW - 600, 'odd.f"\\\nx', 0.2, false, "odd");
  perf.recordLivenessPing();
  perf.recordLivenessPing();
  const security = new SecurityMonitor(silent, clock.now);
  const peer = { client: "unix_socket" };
  security.record("unauthorized_module", "warning", peer, {}, {});
  security.record("unauthorized_module", "warning", peer, {}, {});
  security.record("dangerous_function", "error", peer, {}, {});
  const connections = new ConnectionTracker();
  connections.open(NOW - 500_000, () => {}); // stale
  connections.open(NOW - 1000, () => {});
  connections.open(NOW - 10, () => {});
  const resources = new ResourceMonitor(config);
  resources.memoryMb = 64.5;
  resources.cpuPercent = 12.5;
  const throttle = new Throttle({ maxConcurrent: 100, maxPerMinute: 0, waitMs: 60_000 }, clock.now);
  throttle.count();
  throttle.count();
  throttle.count();
  const host: HelperHost = {
    ready: Promise.resolve(),
    state: () => "ready",
    modules: () => ["test_helper", "datetime_helper", "database", "database"],
    functions: () => new Map(),
    call: () => Promise.reject(new Error("not in this test")),
    sweep: () => Promise.resolve(0),
    cleanupStale: () => Promise.resolve(),
    handleCounts: () => Promise.resolve({}),
    workerCounts: () => ({ running: 1, stopped: 4, replaced: 2 }),
    close: () => Promise.resolve(),
  };
  const logs: Logs = {
    daemon: silent,
    security: silent,
    stats: () => ({
      daemon: fileStats("/nonexistent/cpan_daemon.log", 2),
      security: fileStats("/nonexistent/cpan_security.log", 3),
    }),
    dropped: () => 5,
    reopen() {},
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return {
    config,
    clock,
    logs,
    stats,
    perf,
    security,
    connections,
    resources,
    throttle,
    host,
    socketPath: "/nonexistent/cpan_bridge.sock",
    executable: "/usr/local/bin/cpan-bridge",
    inFlight: 2,
    requestShutdown() {},
    stopping: false,
  };
}

/** The exposition with the live process figures (RSS, CPU time) replaced by `@LIVE@`. */
function masked(text: string): string {
  return text.replace(
    /^(process_resident_memory_bytes|process_cpu_seconds_total) \S+$/gm,
    "$1 @LIVE@",
  );
}

function expected(template: string): string {
  const facts: Record<string, string> = {
    VERSION,
    PROTOCOL_VERSION,
    DENO: Deno.version.deno,
    V8: Deno.version.v8,
    TYPESCRIPT: Deno.version.typescript,
    OS: Deno.build.os,
    ARCH: Deno.build.arch,
    BUILD: BUILD_INFO,
  };
  return template.replace(/@([A-Z0-9_]+)@/g, (all, k: string) => facts[k] ?? all);
}

Deno.test("prometheusText() writes the same bytes for a fixed snapshot", async () => {
  const text = prometheusText(fixedContext());
  if (Deno.env.get("UPDATE_SNAPSHOT") === "1") {
    // Kept for regenerating the file on purpose; the facts are put back as placeholders.
    let t = masked(text);
    for (
      const [k, v] of [
        ["BUILD", BUILD_INFO],
        ["VERSION", VERSION],
        ["DENO", Deno.version.deno],
        ["V8", Deno.version.v8],
        ["TYPESCRIPT", Deno.version.typescript],
      ] as const
    ) t = t.replace(`"${v}"`, `"@${k}@"`);
    await Deno.writeTextFile(SNAPSHOT, t);
  }
  assert.equal(masked(text), expected(await Deno.readTextFile(SNAPSHOT)));
});

Deno.test("prometheusText() ends every family with its samples and the text with a newline", () => {
  const text = prometheusText(fixedContext());
  assert.ok(text.endsWith("\n"));
  assert.ok(!text.endsWith("\n\n"));
  const helps = text.match(/^# HELP /gm)?.length ?? 0;
  const types = text.match(/^# TYPE /gm)?.length ?? 0;
  assert.equal(helps, types);
  assert.ok(helps >= 30, `only ${helps} families`);
});

Deno.test("METRICS names each family once, in the exposition's naming rules", () => {
  const names = METRICS.map((m) => m.name);
  assert.equal(new Set(names).size, names.length);
  for (const m of METRICS) {
    assert.match(m.name, /^[a-z][a-z0-9_]*$/);
    if (m.type === "counter") assert.match(m.name, /_total$/, m.name);
    if (typeof m.help === "string") assert.match(m.help, /^\S.*\.$/, m.name);
  }
  const text = prometheusText(fixedContext());
  assert.deepEqual(
    [...text.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]),
    names,
  );
});
