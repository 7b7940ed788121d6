/**
 * @module
 * The reports behind the built-ins (contract §4): stats, resources, health, metrics. Pure reads
 * of the daemon's counters; nothing here samples or sleeps.
 */

import { type DaemonContext, servedModules } from "../daemon_context.ts";
import { localIso } from "../log/format.ts";
import { healthIndicators } from "../ops/performance.ts";
import { PROTOCOL_VERSION } from "../version.ts";

/** Validation config V (contract §4.1). */
export function validationConfig(d: DaemonContext) {
  const c = d.config;
  return {
    strict_mode: c.strictValidation,
    max_string_length: c.maxStringLength,
    max_array_length: c.maxArrayLength,
    max_object_depth: c.maxObjectDepth,
    max_param_count: c.maxParamCount,
  };
}

/** Resource status R (contract §4.1), from the cached sample. */
export function resourceStatus(d: DaemonContext) {
  return d.resources.status(d.throttle.perMinute(), d.throttle.active);
}

export function performanceMetrics(d: DaemonContext) {
  return d.perf.metrics(d.clock.now());
}

function thresholds(d: DaemonContext) {
  return { errorRateWarn: d.config.healthErrorRateWarn, responseTime: d.config.healthResponseTime };
}

/** `system.performance` (contract §4.7). */
export function performanceReport(d: DaemonContext) {
  const p = performanceMetrics(d);
  return {
    performance_metrics: p,
    module_performance: d.perf.moduleReport(),
    recent_errors: d.perf.recentErrors(10),
    health_indicators: healthIndicators(p, thresholds(d)),
  };
}

export function uptimeSeconds(d: DaemonContext): number {
  return (d.clock.now() - d.stats.startTime) / 1000;
}

/** `<H>h <M>m <S>s` (contract §4.10). */
export function uptimeFormatted(u: number): string {
  return `${Math.floor(u / 3600)}h ${Math.floor((u % 3600) / 60)}m ${Math.floor(u % 60)}s`;
}

type CheckStatus = "pass" | "warn" | "fail";
interface Check {
  status: CheckStatus;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * How long one look at the socket file serves the health reports: a stat per report cost more
 * than the rest of it (11 of 14 µs in a hot loop), and health is what monitors ask most.
 */
export const SOCKET_CHECK_MS = 1000;
const socketChecks = new WeakMap<DaemonContext, { readonly at: number; readonly ok: boolean }>();

/** Whether the daemon's socket file is there, looked at once per {@linkcode SOCKET_CHECK_MS}. */
function socketPresent(d: DaemonContext): boolean {
  const now = d.clock.now();
  const seen = socketChecks.get(d);
  if (seen && now >= seen.at && now - seen.at < SOCKET_CHECK_MS) return seen.ok;
  let ok = false;
  try {
    ok = Deno.statSync(d.socketPath).isSocket === true;
  } catch { /* missing */ }
  socketChecks.set(d, { at: now, ok });
  return ok;
}

/**
 * `system.health` (contract §4.6). DEFECT-FIX M1: an error is added only when a check fails, so
 * a healthy daemon says `healthy`. Thresholds are the operations guide's alert tables (§10.4),
 * all configurable; every check that is not `pass` adds a warning or an error.
 */
export function healthReport(d: DaemonContext) {
  const c = d.config;
  const now = d.clock.now();
  const checks: Record<string, Check> = {};
  const warnings: string[] = [];
  const errors: string[] = [];
  const grade = (v: number, warn: number, crit: number | null): CheckStatus =>
    crit !== null && v > crit ? "fail" : v > warn ? "warn" : "pass";

  checks.daemon_running = { status: "pass", message: "Daemon is running and responsive" };

  const active = d.throttle.active;
  checks.thread_health = {
    status: active < c.maxConcurrentRequests ? "pass" : "warn",
    message: `${active} active helper calls`,
    details: { active_threads: active, waiting: d.throttle.waiting },
  };
  if (active >= c.maxConcurrentRequests) warnings.push(`High thread count: ${active}`);

  const m = d.resources.memoryMb;
  const ms = grade(m, c.healthMemoryWarnMb, c.healthMemoryCritMb);
  checks.memory_usage = {
    status: ms,
    message: `${m.toFixed(1)} MB memory usage`,
    details: { memory_mb: m },
  };
  if (ms === "fail") errors.push(`High memory usage: ${m.toFixed(1)} MB`);
  else if (ms === "warn") warnings.push(`Elevated memory usage: ${m.toFixed(1)} MB`);

  const cpu = d.resources.cpuPercent;
  const cs = grade(cpu, c.healthCpuWarn, c.healthCpuCrit);
  checks.cpu_usage = {
    status: cs,
    message: `${cpu.toFixed(1)}% CPU usage`,
    details: { cpu_percent: cpu },
  };
  if (cs === "fail") errors.push(`High CPU usage: ${cpu.toFixed(1)}%`);
  else if (cs === "warn") warnings.push(`Elevated CPU usage: ${cpu.toFixed(1)}%`);

  const helperNames = servedModules(d);
  const hostState = d.host.state();
  checks.helper_modules = {
    status: helperNames.length > 0 ? "pass" : "warn",
    message: `${helperNames.length} helper modules loaded`,
    details: { loaded_modules: helperNames, expected_count: helperNames.length },
  };
  if (hostState === "loading") warnings.push("Helper modules still loading");
  if (hostState === "failed") errors.push("Helper modules failed to load");

  const socketOk = socketPresent(d);
  checks.socket_connectivity = socketOk
    ? {
      status: "pass",
      message: "Socket file exists and accessible",
      details: { socket_path: d.socketPath },
    }
    : { status: "fail", message: "Socket file not found", details: { socket_path: d.socketPath } };
  if (!socketOk) errors.push("Socket file not accessible");

  const p = performanceMetrics(d);
  const hi = healthIndicators(p, thresholds(d));
  checks.performance = {
    status: hi.overall_health === "healthy" ? "pass" : "warn",
    message: `Performance: ${hi.overall_health}`,
    details: {
      error_rate: `${(p.error_rate * 100).toFixed(1)}%`,
      avg_response_time: `${p.avg_response_time.toFixed(3)}s`,
      requests_per_second: p.requests_per_second.toFixed(1),
    },
  };
  const er = grade(p.error_rate, c.healthErrorRateWarn, c.healthErrorRateCrit);
  checks.error_rate = {
    status: er,
    message: `${(p.error_rate * 100).toFixed(1)}% of the last ${
      Math.min(100, p.total_requests)
    } requests failed`,
    details: {
      error_rate: p.error_rate,
      warn_above: c.healthErrorRateWarn,
      fail_above: c.healthErrorRateCrit,
    },
  };
  if (er === "fail") errors.push(`High error rate: ${(p.error_rate * 100).toFixed(1)}%`);
  else if (er === "warn") warnings.push(`High error rate: ${(p.error_rate * 100).toFixed(1)}%`);
  if (p.avg_response_time > c.healthResponseTime) {
    warnings.push(`Slow response time: ${p.avg_response_time.toFixed(2)}s`);
  }
  if (p.requests_per_second > 50) {
    warnings.push(`High load: ${p.requests_per_second.toFixed(1)} req/s`);
  }

  const stale = d.connections.staleCount(now, c.staleTimeout * 1000);
  checks.stale_connections = {
    status: stale > c.healthStaleConnections ? "warn" : "pass",
    message: `${stale} stale connections`,
    details: { stale_connections: stale, warn_above: c.healthStaleConnections },
  };
  if (stale > c.healthStaleConnections) warnings.push(`Stale connections: ${stale}`);

  const alert = d.security.lastAlert;
  const recentAlert = alert !== null && now - alert.at < 3_600_000;
  checks.security = {
    status: recentAlert ? "warn" : "pass",
    message: recentAlert
      ? `SECURITY ALERT in the last hour: ${alert!.type}`
      : `${d.security.total} security events, no alert in the last hour`,
    details: {
      security_events: d.security.total,
      alerts: d.security.alerts,
      events_by_type: d.security.metrics().events_by_type,
    },
  };
  if (recentAlert) {
    warnings.push(`Security alert in the last hour: ${alert!.type} (see the security log)`);
  }

  const dropped = d.logs.dropped();
  const logStats = d.logs.stats();
  checks.logging = {
    status: dropped > 0 ? "warn" : "pass",
    message: dropped > 0 ? `${dropped} log lines dropped` : "Logs written",
    details: {
      dropped_lines: dropped,
      daemon_log: logStats.daemon.path,
      security_log: logStats.security.path,
      last_error: logStats.daemon.lastError ?? logStats.security.lastError,
    },
  };
  if (dropped > 0) {
    warnings.push(
      `Log lines dropped: ${dropped} (${
        logStats.daemon.lastError ?? logStats.security.lastError ?? "disk slow"
      })`,
    );
  }

  return {
    timestamp: localIso(now),
    overall_status: errors.length ? "unhealthy" : warnings.length ? "degraded" : "healthy",
    checks,
    warnings,
    errors,
  };
}

/** Connection summary for `system.metrics`. */
function connectionSummary(d: DaemonContext) {
  const r = d.connections.report(
    d.clock.now(),
    d.config.staleTimeout * 1000,
    d.config.maxConcurrentRequests,
  );
  return {
    total_connections: r.total_connections,
    active_connections: r.active_connections,
    stale_connections: r.stale_connections,
  };
}

/** `system.metrics` (contract §4.10). */
export function metricsReport(d: DaemonContext) {
  const u = uptimeSeconds(d);
  const loaded = servedModules(d);
  const logStats = d.logs.stats();
  return {
    timestamp: localIso(d.clock.now()),
    daemon_info: {
      version: PROTOCOL_VERSION,
      uptime_seconds: u,
      uptime_formatted: uptimeFormatted(u),
    },
    resource_status: resourceStatus(d),
    performance_metrics: performanceMetrics(d),
    security_summary: {
      total_security_events: d.security.metrics().total_events,
      validation_failures: d.stats.validationFailures,
      requests_rejected: d.stats.requestsRejected,
      security_alerts: d.security.alerts,
    },
    connection_summary: connectionSummary(d),
    module_status: { loaded_modules: loaded.length, available_modules: loaded },
    system_stats: d.stats.snapshot(),
    log_status: {
      dropped_lines: d.logs.dropped(),
      daemon_log: logStats.daemon,
      security_log: logStats.security,
    },
    helper_status: {
      abandoned_calls: d.stats.helperTimeouts,
      throttled_calls: d.stats.throttled,
      refused_busy: d.stats.throttleRefused,
      liveness_pings: d.perf.livenessPings,
    },
  };
}

/** `system.stats` (contract §4.11). */
export function statsReport(d: DaemonContext) {
  return {
    ...d.stats.snapshot(),
    security_metrics: d.security.metrics(),
    performance_summary: performanceMetrics(d),
    resource_status: resourceStatus(d),
    validation_config: validationConfig(d),
  };
}
