/**
 * @module
 * Text renderings of the operations API for the CLI: the Nagios-style health line and the
 * one-line status of the guide's "Status check".
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" ? v as Obj : {});
const num = (v: unknown): number => (typeof v === "number" ? v : Number(v) || 0);

/** `CPAN-BRIDGE OK - healthy | requests=… errors=… …` (Nagios plugin output with perfdata). */
export function healthLine(health: Obj, metrics?: Obj): string {
  const status = String(health.overall_status);
  const word = status === "healthy"
    ? "OK"
    : status === "degraded"
    ? "WARNING"
    : status === "unhealthy"
    ? "CRITICAL"
    : "UNKNOWN";
  const problems = [...(health.errors as string[] ?? []), ...(health.warnings as string[] ?? [])];
  const m = obj(metrics);
  const perf = obj(m.performance_metrics),
    res = obj(m.resource_status),
    conn = obj(m.connection_summary),
    stats = obj(m.system_stats);
  const perfdata = metrics
    ? ` | requests=${num(stats.requests_processed)}c errors=${
      num(stats.requests_failed)
    }c error_rate=${(num(perf.error_rate) * 100).toFixed(1)}%;5;10 avg_response=${
      num(perf.avg_response_time).toFixed(4)
    }s;1 memory=${num(res.memory_mb).toFixed(1)}MB;500;1000 cpu=${
      num(res.cpu_percent).toFixed(1)
    }%;80;95 active_connections=${num(conn.active_connections)} stale_connections=${
      num(conn.stale_connections)
    };5`
    : "";
  return `CPAN-BRIDGE ${word} - ${status}${
    problems.length ? `: ${problems.join("; ")}` : ""
  }${perfdata}`;
}

/** One line: status, uptime, requests, rates, memory, CPU, connections. */
export function statusLine(metrics: Obj): string {
  const info = obj(metrics.daemon_info),
    perf = obj(metrics.performance_metrics),
    res = obj(metrics.resource_status);
  const conn = obj(metrics.connection_summary), sec = obj(metrics.security_summary);
  return `Status: up ${info.uptime_formatted} | Requests: ${num(perf.total_requests)} (${
    num(perf.requests_per_second).toFixed(2)
  }/s, errors ${(num(perf.error_rate) * 100).toFixed(1)}%, avg ${
    (num(perf.avg_response_time) * 1000).toFixed(2)
  } ms) | Memory: ${num(res.memory_mb).toFixed(1)} MB | CPU: ${
    num(res.cpu_percent).toFixed(1)
  }% | Connections: ${num(conn.active_connections)} active, ${
    num(conn.stale_connections)
  } stale | Security events: ${num(sec.total_security_events)}`;
}
