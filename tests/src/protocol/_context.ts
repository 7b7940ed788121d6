/**
 * @module
 * `protocolContext()`: a real `DaemonContext` for calling `dispatch()` and `validateRequest()`
 * directly: real counters and monitors, a fake clock, and an in-process helper host serving a
 * small helper (`probe_helper`), so no socket, Worker or timer is involved.
 */

import { loadConfig } from "../../../src/config.ts";
import type { DaemonContext } from "../../../src/daemon_context.ts";
import { InProcessHost } from "../../../src/host/in_process.ts";
import type { LineLogger, Logs } from "../../../src/log/mod.ts";
import { ConnectionTracker } from "../../../src/ops/connections.ts";
import { PerformanceMonitor } from "../../../src/ops/performance.ts";
import { ResourceMonitor } from "../../../src/ops/resources.ts";
import { SecurityMonitor } from "../../../src/ops/security.ts";
import { Stats } from "../../../src/ops/stats.ts";
import { Throttle } from "../../../src/ops/throttle.ts";
import { defineHelper, fn } from "../../../helpers/types.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

/** The helper the in-process host serves: `upper(text)` and `fail(message)`. */
export const probeHelper = defineHelper({
  name: "probe_helper",
  replaces: "nothing (protocol tests)",
  functions: {
    upper: fn(["text"], (a) => ({ success: true, result: String(a.text).toUpperCase() })),
    fail: fn(["message"], (a) => {
      throw new Error(String(a.message));
    }),
  },
});

/** A daemon context for protocol tests, with the lines its loggers received. */
export interface ProtocolContext {
  readonly d: DaemonContext;
  readonly clock: FakeClock;
  /** Daemon log lines, as "level: message". */
  readonly lines: string[];
  /** Security log lines, as "level: message". */
  readonly securityLines: string[];
  close(): Promise<void>;
}

function collect(into: string[]): LineLogger {
  const at = (level: string) => (m: string) => void into.push(`${level}: ${m}`);
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    critical: at("critical"),
  };
}

/** Builds the context; `env` overrides configuration as the daemon's environment would. */
export function protocolContext(env: Record<string, string> = {}): ProtocolContext {
  const clock = new FakeClock();
  const config = loadConfig(env);
  const lines: string[] = [];
  const securityLines: string[] = [];
  const host = new InProcessHost(
    [probeHelper],
    {
      handleTtlMs: config.handleTtl * 1000,
      helperTimeoutMs: config.helperTimeout * 1000,
      maxFileBytes: config.maxFileBytes,
      debug: 0,
    },
    clock,
    (level, m) => lines.push(`${level}: ${m}`),
    config.encoding === "repair",
  );
  const logs: Logs = {
    daemon: collect(lines),
    security: collect(securityLines),
    stats: () => ({
      daemon: { path: "", written: 0, dropped: 0, rotations: 0, queued: 0, lastError: null },
      security: { path: "", written: 0, dropped: 0, rotations: 0, queued: 0, lastError: null },
    }),
    dropped: () => 0,
    reopen() {},
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const d: DaemonContext = {
    config,
    clock,
    logs,
    stats: new Stats(clock.now()),
    perf: new PerformanceMonitor(clock.now()),
    security: new SecurityMonitor(logs.security, () => clock.now()),
    connections: new ConnectionTracker(),
    resources: new ResourceMonitor(config),
    throttle: new Throttle(
      { maxConcurrent: config.maxConcurrentRequests, maxPerMinute: 0, waitMs: 1000 },
      () => clock.now(),
    ),
    host,
    socketPath: "/nonexistent/cpan_bridge.sock",
    executable: "/nonexistent/cpan-bridge",
    inFlight: 0,
    requestShutdown() {},
    stopping: false,
  };
  return { d, clock, lines, securityLines, close: () => host.close() };
}
