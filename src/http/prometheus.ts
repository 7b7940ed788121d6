/**
 * @module
 * `prometheusText(d)`: the daemon's counters in the Prometheus text exposition format 0.0.4, for
 * `GET /metrics`. `METRICS` is the table of families (name, type, help, how to read the value and
 * labels), written in its order; it only reads the counters and reports the `system.*` built-ins
 * use.
 */

import { BUILD_INFO } from "../build_info.ts";
import type { DaemonContext } from "../daemon_context.ts";
import { LATENCY_BUCKETS, type PerformanceMetrics } from "../ops/performance.ts";
import { processCpuSeconds, rssBytes } from "../ops/resources.ts";
import { healthReport, performanceMetrics, uptimeSeconds } from "../builtins/reports.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { Exposition, type HistogramValue, type Labels, type Sample } from "./exposition.ts";

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** What one scrape reads once and several families share. */
export interface Scrape {
  readonly d: DaemonContext;
  /** `system.health`'s overall status. */
  readonly status: string;
  /** `system.performance`'s figures over the last 100 requests. */
  readonly perf: PerformanceMetrics;
  /** Totals per `module.function`, sorted by name. */
  readonly mods: ReturnType<DaemonContext["perf"]["moduleTotals"]>;
  /** Open connections idle longer than the stale timeout. */
  readonly stale: number;
}

/** A counter or gauge family: one unlabelled value or labelled samples. */
export interface ValueMetric {
  readonly name: string;
  readonly type: "counter" | "gauge";
  readonly help: string | ((s: Scrape) => string);
  readonly read: (s: Scrape) => readonly Sample[] | number;
}

/** A histogram family. */
export interface HistogramMetric {
  readonly name: string;
  readonly type: "histogram";
  readonly help: string;
  readonly read: (s: Scrape) => HistogramValue;
}

/** One row of the table. */
export type MetricDef = ValueMetric | HistogramMetric;

const SEVERITIES = ["info", "warning", "error", "critical"] as const;
const STATUSES = ["healthy", "degraded", "unhealthy"] as const;

/** Splits `module.function` at the first dot (module names have none). */
function splitMf(mf: string): Labels {
  const i = mf.indexOf(".");
  return i < 0
    ? { module: mf, function: "" }
    : { module: mf.slice(0, i), function: mf.slice(i + 1) };
}

/**
 * Security events by type and severity. `SecurityMonitor.byType` counts each event twice, under
 * `<type>` and under `<type>_<severity>`; the second form gives both labels.
 */
function securitySamples(byType: Readonly<Record<string, number>>): Sample[] {
  const out: Array<[{ type: string; severity: string }, number]> = [];
  for (const [key, n] of Object.entries(byType)) {
    const sev = SEVERITIES.find((s) => key.endsWith(`_${s}`));
    if (!sev) continue;
    const type = key.slice(0, -sev.length - 1);
    if (Object.hasOwn(byType, type)) out.push([{ type, severity: sev }, n]);
  }
  return out.sort((a, b) =>
    `${a[0].type} ${a[0].severity}`.localeCompare(`${b[0].type} ${b[0].severity}`)
  );
}

function buildLabels(): Labels {
  return {
    version: VERSION,
    protocol_version: PROTOCOL_VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: Deno.build.os,
    arch: Deno.build.arch,
    build: BUILD_INFO,
  };
}

/** Every family of `/metrics`, in the order written. */
export const METRICS: readonly MetricDef[] = [
  {
    name: "cpan_bridge_build_info",
    type: "gauge",
    help: "Build facts of the running daemon; the value is always 1.",
    read: () => [[buildLabels(), 1]],
  },
  {
    name: "cpan_bridge_uptime_seconds",
    type: "gauge",
    help: "Seconds since the daemon started.",
    read: (s) => uptimeSeconds(s.d),
  },
  {
    name: "process_start_time_seconds",
    type: "gauge",
    help: "Start time of the daemon since the Unix epoch, in seconds.",
    read: (s) => s.d.stats.startTime / 1000,
  },
  {
    name: "cpan_bridge_health_status",
    type: "gauge",
    help: "Overall status of system.health: 1 for the current status, 0 for the others.",
    read: (s) => STATUSES.map((st) => [{ status: st }, st === s.status ? 1 : 0]),
  },
  {
    name: "cpan_bridge_ready",
    type: "gauge",
    help: "1 once helpers are loaded and the daemon is not stopping (as /readyz).",
    read: (s) => s.d.host.state() === "ready" && !s.d.stopping ? 1 : 0,
  },

  // Requests, as the wire saw them.
  {
    name: "cpan_bridge_requests_processed_total",
    type: "counter",
    help: "Requests answered with success.",
    read: (s) => s.d.stats.requestsProcessed,
  },
  {
    name: "cpan_bridge_requests_failed_total",
    type: "counter",
    help: "Requests answered with an error.",
    read: (s) => s.d.stats.requestsFailed,
  },
  {
    name: "cpan_bridge_requests_rejected_total",
    type: "counter",
    help: "Requests refused by validation or security checks.",
    read: (s) => s.d.stats.requestsRejected,
  },
  {
    name: "cpan_bridge_validation_failures_total",
    type: "counter",
    help: "Requests that failed validation.",
    read: (s) => s.d.stats.validationFailures,
  },
  {
    name: "cpan_bridge_liveness_pings_total",
    type: "counter",
    help: "Client liveness pings (test.ping without request_id), kept out of the latency figures.",
    read: (s) => s.d.perf.livenessPings,
  },
  {
    name: "cpan_bridge_requests_in_flight",
    type: "gauge",
    help: "Requests being handled right now.",
    read: (s) => s.d.inFlight,
  },
  {
    name: "cpan_bridge_requests_total",
    type: "counter",
    help: "Requests by module and function, successful or not (liveness pings excluded).",
    read: (s) => s.mods.map((m) => [splitMf(m.mf), m.requests]),
  },
  {
    name: "cpan_bridge_request_errors_total",
    type: "counter",
    help: "Failed requests by module and function.",
    read: (s) => s.mods.map((m) => [splitMf(m.mf), m.errors]),
  },
  {
    name: "cpan_bridge_request_seconds_total",
    type: "counter",
    help: "Time spent handling requests, by module and function, in seconds.",
    read: (s) => s.mods.map((m) => [splitMf(m.mf), m.seconds]),
  },
  {
    name: "cpan_bridge_request_duration_seconds",
    type: "histogram",
    help: "Time from reading a request to its reply, in seconds (liveness pings excluded).",
    read: (s) => ({ bounds: LATENCY_BUCKETS, ...s.d.perf.histogram }),
  },
  {
    name: "cpan_bridge_error_ratio",
    type: "gauge",
    help: "Share of the last 100 requests that failed (system.performance error_rate).",
    read: (s) => s.perf.error_rate,
  },
  {
    name: "cpan_bridge_avg_response_seconds",
    type: "gauge",
    help: "Average time of the last 100 requests, in seconds.",
    read: (s) => s.perf.avg_response_time,
  },
  {
    name: "cpan_bridge_requests_per_minute",
    type: "gauge",
    help: "Helper calls started in the last minute.",
    read: (s) => s.d.throttle.perMinute(),
  },

  // Connections.
  {
    name: "cpan_bridge_connections_active",
    type: "gauge",
    help: "Open client connections that are not stale.",
    read: (s) => s.d.connections.size - s.stale,
  },
  {
    name: "cpan_bridge_connections_stale",
    type: "gauge",
    help: (s) => `Open client connections idle longer than ${s.d.config.staleTimeout} s.`,
    read: (s) => s.stale,
  },
  {
    name: "cpan_bridge_connections_total",
    type: "counter",
    help: "Client connections accepted.",
    read: (s) => s.d.stats.connectionsTotal,
  },
  {
    name: "cpan_bridge_connections_rejected_total",
    type: "counter",
    help: "Client connections refused (limit reached).",
    read: (s) => s.d.stats.connectionsRejected,
  },
  {
    name: "cpan_bridge_connections_peak",
    type: "gauge",
    help: "Most client connections open at once.",
    read: (s) => s.d.stats.peakConnections,
  },

  // Helpers.
  {
    name: "cpan_bridge_helper_modules_loaded",
    type: "gauge",
    help: "Helper modules loaded (wire names, aliases included).",
    read: (s) => new Set(s.d.host.modules()).size,
  },
  {
    name: "cpan_bridge_helper_workers",
    type: "gauge",
    help:
      "Helper worker threads running (started as calls need them, up to CPAN_BRIDGE_HELPER_WORKERS).",
    read: (s) => s.d.host.workerCounts?.().running ?? 0,
  },
  {
    name: "cpan_bridge_helper_workers_stopped_total",
    type: "counter",
    help:
      "Helper worker threads stopped after CPAN_BRIDGE_HELPER_WORKER_IDLE without a call or handle.",
    read: (s) => s.d.host.workerCounts?.().stopped ?? 0,
  },
  {
    name: "cpan_bridge_helper_workers_replaced_total",
    type: "counter",
    help:
      "Helper worker threads replaced after a call ran past CPAN_BRIDGE_HELPER_TIMEOUT and stuck.",
    read: (s) => s.d.host.workerCounts?.().replaced ?? 0,
  },
  {
    name: "cpan_bridge_helper_calls_active",
    type: "gauge",
    help: "Helper calls running now.",
    read: (s) => s.d.throttle.active,
  },
  {
    name: "cpan_bridge_helper_calls_waiting",
    type: "gauge",
    help: "Helper calls waiting for a throttle slot.",
    read: (s) => s.d.throttle.waiting,
  },
  {
    name: "cpan_bridge_helper_timeouts_total",
    type: "counter",
    help: "Helper calls abandoned after CPAN_BRIDGE_HELPER_TIMEOUT.",
    read: (s) => s.d.stats.helperTimeouts,
  },
  {
    name: "cpan_bridge_helper_throttled_total",
    type: "counter",
    help: "Helper calls that waited for a throttle slot.",
    read: (s) => s.d.stats.throttled,
  },
  {
    name: "cpan_bridge_helper_refused_busy_total",
    type: "counter",
    help: "Helper calls refused after waiting too long for a slot.",
    read: (s) => s.d.stats.throttleRefused,
  },

  // Resources: live RSS and CPU time, plus the sampled figures the health checks grade.
  {
    name: "process_resident_memory_bytes",
    type: "gauge",
    help: "Resident set size of the daemon, in bytes.",
    read: () => rssBytes(),
  },
  {
    name: "process_cpu_seconds_total",
    type: "counter",
    help: "CPU time used by the daemon (user and system, all threads), in seconds.",
    read: () => processCpuSeconds(),
  },
  {
    name: "cpan_bridge_memory_bytes",
    type: "gauge",
    help:
      "Resident memory at the last sample (every 2 s), in bytes; system.metrics memory_mb is this / 1048576.",
    read: (s) => s.d.resources.memoryMb * 1048576,
  },
  {
    name: "cpan_bridge_cpu_ratio",
    type: "gauge",
    help:
      "CPU use over the last sampling interval (2 s), as a ratio of one core; system.metrics cpu_percent is this * 100.",
    read: (s) => s.d.resources.cpuPercent / 100,
  },

  // Security and logs.
  {
    name: "cpan_bridge_security_events_total",
    type: "counter",
    help: "Security events, by type and severity.",
    read: (s) => securitySamples(s.d.security.byType),
  },
  {
    name: "cpan_bridge_security_alerts_total",
    type: "counter",
    help: "SECURITY ALERT lines written (an alert threshold crossed).",
    read: (s) => s.d.security.alerts,
  },
  {
    name: "cpan_bridge_log_dropped_lines_total",
    type: "counter",
    help: "Log lines dropped (queue full or failed writes), both logs.",
    read: (s) => s.d.logs.dropped(),
  },
];

/** Reads what several families share, once per scrape. */
function scrape(d: DaemonContext): Scrape {
  const now = d.clock.now();
  return {
    d,
    status: healthReport(d).overall_status,
    perf: performanceMetrics(d),
    mods: d.perf.moduleTotals().sort((a, b) => a.mf.localeCompare(b.mf)),
    stale: d.connections.staleCount(now, d.config.staleTimeout * 1000),
  };
}

/**
 * The `/metrics` text of one daemon: every family of {@link METRICS}, in order.
 *
 * @param d the running daemon
 * @returns the exposition text, ending with a newline
 * @example
 * ```ts ignore
 * new Response(prometheusText(d), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
 * ```
 */
export function prometheusText(d: DaemonContext): string {
  const e = new Exposition();
  const s = scrape(d);
  for (const m of METRICS) {
    if (m.type === "histogram") e.histogram(m.name, m.help, m.read(s));
    else e.family(m.name, m.type, typeof m.help === "string" ? m.help : m.help(s), m.read(s));
  }
  return e.toString();
}
