/**
 * @module
 * `prometheusText(d)`: the daemon's counters in the Prometheus text exposition format 0.0.4, for
 * `GET /metrics`. It only reads: the same counters and reports the `system.*` built-ins use.
 */

import { BUILD_INFO } from "../build_info.ts";
import type { DaemonContext } from "../daemon_context.ts";
import { LATENCY_BUCKETS } from "../ops/performance.ts";
import { processCpuSeconds, rssBytes } from "../ops/resources.ts";
import { healthReport, performanceMetrics, uptimeSeconds } from "../builtins/reports.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;
type Sample = [labels: Labels, value: number];

const SEVERITIES = ["info", "warning", "error", "critical"] as const;

/** Escapes a label value: backslash, double quote and newline (exposition format). */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function sampleLine(name: string, labels: Labels, value: number): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",");
  return `${name}${l ? `{${l}}` : ""} ${formatValue(value)}`;
}

/** Accumulates metric families; each family is written once with its HELP and TYPE. */
class Exposition {
  readonly #lines: string[] = [];

  family(
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: Sample[] | number,
  ): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const list = typeof samples === "number" ? [[{}, samples] as Sample] : samples;
    for (const [labels, value] of list) this.#lines.push(sampleLine(name, labels, value));
  }

  histogram(
    name: string,
    help: string,
    bounds: readonly number[],
    counts: readonly number[],
    sum: number,
    count: number,
  ): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let cumulative = 0;
    bounds.forEach((le, i) => {
      cumulative += counts[i] ?? 0;
      this.#lines.push(sampleLine(`${name}_bucket`, { le: String(le) }, cumulative));
    });
    this.#lines.push(sampleLine(`${name}_bucket`, { le: "+Inf" }, count));
    this.#lines.push(sampleLine(`${name}_sum`, {}, sum));
    this.#lines.push(sampleLine(`${name}_count`, {}, count));
  }

  toString(): string {
    return this.#lines.join("\n") + "\n";
  }
}

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
  const out: Sample[] = [];
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

/**
 * The `/metrics` text of one daemon.
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
  const now = d.clock.now();
  const s = d.stats;
  const c = d.config;

  e.family(
    "cpan_bridge_build_info",
    "gauge",
    "Build facts of the running daemon; the value is always 1.",
    [[{
      version: VERSION,
      protocol_version: PROTOCOL_VERSION,
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      os: Deno.build.os,
      arch: Deno.build.arch,
      build: BUILD_INFO,
    }, 1]],
  );
  e.family(
    "cpan_bridge_uptime_seconds",
    "gauge",
    "Seconds since the daemon started.",
    uptimeSeconds(d),
  );
  e.family(
    "process_start_time_seconds",
    "gauge",
    "Start time of the daemon since the Unix epoch, in seconds.",
    s.startTime / 1000,
  );
  const status = healthReport(d).overall_status;
  e.family(
    "cpan_bridge_health_status",
    "gauge",
    "Overall status of system.health: 1 for the current status, 0 for the others.",
    (["healthy", "degraded", "unhealthy"] as const).map((
      st,
    ) => [{ status: st }, st === status ? 1 : 0]),
  );
  e.family(
    "cpan_bridge_ready",
    "gauge",
    "1 once helpers are loaded and the daemon is not stopping (as /readyz).",
    d.host.state() === "ready" && !d.stopping ? 1 : 0,
  );

  // Requests, as the wire saw them.
  e.family(
    "cpan_bridge_requests_processed_total",
    "counter",
    "Requests answered with success.",
    s.requestsProcessed,
  );
  e.family(
    "cpan_bridge_requests_failed_total",
    "counter",
    "Requests answered with an error.",
    s.requestsFailed,
  );
  e.family(
    "cpan_bridge_requests_rejected_total",
    "counter",
    "Requests refused by validation or security checks.",
    s.requestsRejected,
  );
  e.family(
    "cpan_bridge_validation_failures_total",
    "counter",
    "Requests that failed validation.",
    s.validationFailures,
  );
  e.family(
    "cpan_bridge_liveness_pings_total",
    "counter",
    "Client liveness pings (test.ping without request_id), kept out of the latency figures.",
    d.perf.livenessPings,
  );
  e.family(
    "cpan_bridge_requests_in_flight",
    "gauge",
    "Requests being handled right now.",
    d.inFlight,
  );

  const mods = d.perf.moduleTotals().sort((a, b) => a.mf.localeCompare(b.mf));
  e.family(
    "cpan_bridge_requests_total",
    "counter",
    "Requests by module and function, successful or not (liveness pings excluded).",
    mods.map((m) => [splitMf(m.mf), m.requests]),
  );
  e.family(
    "cpan_bridge_request_errors_total",
    "counter",
    "Failed requests by module and function.",
    mods.map((m) => [splitMf(m.mf), m.errors]),
  );
  e.family(
    "cpan_bridge_request_seconds_total",
    "counter",
    "Time spent handling requests, by module and function, in seconds.",
    mods.map((m) => [splitMf(m.mf), m.seconds]),
  );
  const h = d.perf.histogram;
  e.histogram(
    "cpan_bridge_request_duration_seconds",
    "Time from reading a request to its reply, in seconds (liveness pings excluded).",
    LATENCY_BUCKETS,
    h.counts,
    h.sum,
    h.count,
  );
  const p = performanceMetrics(d);
  e.family(
    "cpan_bridge_error_ratio",
    "gauge",
    "Share of the last 100 requests that failed (system.performance error_rate).",
    p.error_rate,
  );
  e.family(
    "cpan_bridge_avg_response_seconds",
    "gauge",
    "Average time of the last 100 requests, in seconds.",
    p.avg_response_time,
  );
  e.family(
    "cpan_bridge_requests_per_minute",
    "gauge",
    "Helper calls started in the last minute.",
    d.throttle.perMinute(),
  );

  // Connections.
  const staleMs = c.staleTimeout * 1000;
  const stale = d.connections.staleCount(now, staleMs);
  e.family(
    "cpan_bridge_connections_active",
    "gauge",
    "Open client connections that are not stale.",
    d.connections.size - stale,
  );
  e.family(
    "cpan_bridge_connections_stale",
    "gauge",
    `Open client connections idle longer than ${c.staleTimeout} s.`,
    stale,
  );
  e.family(
    "cpan_bridge_connections_total",
    "counter",
    "Client connections accepted.",
    s.connectionsTotal,
  );
  e.family(
    "cpan_bridge_connections_rejected_total",
    "counter",
    "Client connections refused (limit reached).",
    s.connectionsRejected,
  );
  e.family(
    "cpan_bridge_connections_peak",
    "gauge",
    "Most client connections open at once.",
    s.peakConnections,
  );

  // Helpers.
  e.family(
    "cpan_bridge_helper_modules_loaded",
    "gauge",
    "Helper modules loaded (wire names, aliases included).",
    new Set(d.host.modules()).size,
  );
  e.family(
    "cpan_bridge_helper_calls_active",
    "gauge",
    "Helper calls running now.",
    d.throttle.active,
  );
  e.family(
    "cpan_bridge_helper_calls_waiting",
    "gauge",
    "Helper calls waiting for a throttle slot.",
    d.throttle.waiting,
  );
  e.family(
    "cpan_bridge_helper_timeouts_total",
    "counter",
    "Helper calls abandoned after CPAN_BRIDGE_HELPER_TIMEOUT.",
    s.helperTimeouts,
  );
  e.family(
    "cpan_bridge_helper_throttled_total",
    "counter",
    "Helper calls that waited for a throttle slot.",
    s.throttled,
  );
  e.family(
    "cpan_bridge_helper_refused_busy_total",
    "counter",
    "Helper calls refused after waiting too long for a slot.",
    s.throttleRefused,
  );

  // Resources: live RSS and CPU time, plus the sampled figures the health checks grade.
  e.family(
    "process_resident_memory_bytes",
    "gauge",
    "Resident set size of the daemon, in bytes.",
    rssBytes(),
  );
  e.family(
    "process_cpu_seconds_total",
    "counter",
    "CPU time used by the daemon (user and system, all threads), in seconds.",
    processCpuSeconds(),
  );
  e.family(
    "cpan_bridge_memory_bytes",
    "gauge",
    "Resident memory at the last sample (every 2 s), in bytes; system.metrics memory_mb is this / 1048576.",
    d.resources.memoryMb * 1048576,
  );
  e.family(
    "cpan_bridge_cpu_ratio",
    "gauge",
    "CPU use over the last sampling interval (2 s), as a ratio of one core; system.metrics cpu_percent is this * 100.",
    d.resources.cpuPercent / 100,
  );

  // Security and logs.
  e.family(
    "cpan_bridge_security_events_total",
    "counter",
    "Security events, by type and severity.",
    securitySamples(d.security.byType),
  );
  e.family(
    "cpan_bridge_security_alerts_total",
    "counter",
    "SECURITY ALERT lines written (an alert threshold crossed).",
    d.security.alerts,
  );
  e.family(
    "cpan_bridge_log_dropped_lines_total",
    "counter",
    "Log lines dropped (queue full or failed writes), both logs.",
    d.logs.dropped(),
  );

  return e.toString();
}
