/**
 * @module
 * Request timing: the performance metrics P, per-function stats and recent errors of contract
 * §4.1/§4.7. DEFECT-FIX M2: failures are recorded too, so `error_rate`, `failed_requests` and
 * `recent_errors` mean something. Client liveness pings (`test.ping` without `request_id`,
 * contract §12 M3) are counted apart so they do not drown the figures.
 *
 * Memory (issue #17 item 3): the latency ring holds fixed fields; the error ring keeps the last
 * RECENT_ERRORS failures with their text cut to KEPT_TEXT_BYTES (the daemon log has the whole
 * text), so a stream of long error messages costs a bounded, small amount.
 */

import { keptText, Ring } from "./ring.ts";

/** The latency window: the last this many requests. */
const WINDOW = 1000;

interface ModuleStats {
  requests: number;
  errors: number;
  totalTime: number;
}

/** Performance metrics P, nine keys in contract order. */
export interface PerformanceMetrics {
  total_requests: number;
  successful_requests: number;
  failed_requests: number;
  avg_response_time: number;
  p95_response_time: number;
  p99_response_time: number;
  requests_per_second: number;
  error_rate: number;
  uptime_seconds: number;
}

export interface RecentError {
  timestamp: number;
  module_function: string;
  error: string;
  duration_ms: number;
}

/** Latency histogram bucket bounds (seconds), for Prometheus. */
export const LATENCY_BUCKETS = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Failures kept for `recent_errors` (the Python daemon's error history held 500). */
export const RECENT_ERRORS = 500;

export class PerformanceMonitor {
  readonly #start: number;
  // The ring of the last WINDOW requests, as columns written in place: recording a request
  // allocates nothing (the hot path only counts).
  readonly #t = new Float64Array(WINDOW); // epoch ms
  readonly #duration = new Float64Array(WINDOW); // seconds
  readonly #ok = new Uint8Array(WINDOW);
  #filled = 0;
  #next = 0;
  #total = 0;
  #successful = 0;
  #failed = 0;
  #livenessPings = 0;
  readonly #modules = new Map<string, ModuleStats>();
  readonly #errors = new Ring<RecentError>(RECENT_ERRORS);
  /** Cumulative histogram counts per bucket (+Inf last), and sum, for /metrics. */
  readonly histogram = {
    counts: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
    sum: 0,
    count: 0,
  };

  constructor(startMs: number) {
    this.#start = startMs;
  }

  /** Records one finished request. */
  record(nowMs: number, mf: string, durationS: number, success: boolean, error?: string): void {
    const at = this.#next;
    this.#t[at] = nowMs;
    this.#duration[at] = durationS;
    this.#ok[at] = success ? 1 : 0;
    if (this.#filled < WINDOW) this.#filled++;
    this.#next = (at + 1) % WINDOW;
    this.#total++;
    if (success) this.#successful++;
    else this.#failed++;
    let m = this.#modules.get(mf);
    if (!m) this.#modules.set(mf, m = { requests: 0, errors: 0, totalTime: 0 });
    m.requests++;
    m.totalTime += durationS;
    if (!success) {
      m.errors++;
      this.#errors.push({
        timestamp: nowMs / 1000,
        module_function: mf,
        error: keptText(error ?? ""),
        duration_ms: round2(durationS * 1000),
      });
    }
    let i = 0;
    while (i < LATENCY_BUCKETS.length && durationS > LATENCY_BUCKETS[i]!) i++;
    this.histogram.counts[i]!++;
    this.histogram.sum += durationS;
    this.histogram.count++;
  }

  /** Counts a client liveness ping without letting it into the latency window. */
  recordLivenessPing(): void {
    this.#livenessPings++;
  }

  get livenessPings(): number {
    return this.#livenessPings;
  }

  /**
   * P over the last 100 records (and the last minute's count over the ring). Reads the ring in
   * place: no copy of its 1000 entries per call (system.health and system.stats call this).
   */
  metrics(nowMs: number): PerformanceMetrics {
    const len = this.#filled;
    const n = Math.min(100, len);
    // The newest n records: ring indices next-n .. next-1 (mod length) once the ring is full.
    const durations = new Float64Array(n);
    let failures = 0;
    for (let k = 0; k < n; k++) {
      const i = (this.#next - n + k + len * 2) % len;
      durations[k] = this.#duration[i]!;
      if (!this.#ok[i]) failures++;
    }
    durations.sort();
    let sum = 0;
    for (let k = 0; k < n; k++) sum += durations[k]!;
    let recentCount = 0;
    for (let k = 0; k < len; k++) if (nowMs - this.#t[k]! <= 60_000) recentCount++;
    return {
      total_requests: this.#total,
      successful_requests: this.#successful,
      failed_requests: this.#failed,
      avg_response_time: n ? sum / n : 0,
      p95_response_time: n ? durations[Math.min(n - 1, Math.floor(n * 0.95))]! : 0,
      p99_response_time: n ? durations[Math.min(n - 1, Math.floor(n * 0.99))]! : 0,
      requests_per_second: recentCount / 60.0,
      error_rate: n ? failures / n : 0,
      uptime_seconds: (nowMs - this.#start) / 1000,
    };
  }

  moduleReport() {
    const entries = [...this.#modules.entries()].map(([mf, m]) => ({
      module_function: mf,
      requests: m.requests,
      avg_time_ms: round2(m.totalTime / m.requests * 1000),
      error_rate: round2(m.errors / m.requests * 100),
    }));
    const top = entries.slice().sort((a, b) => b.requests - a.requests).slice(0, 10);
    return { top_modules: top, total_modules: entries.length };
  }

  /** Per-function totals for Prometheus: requests, errors, seconds. */
  moduleTotals(): Array<{ mf: string; requests: number; errors: number; seconds: number }> {
    return [...this.#modules].map(([mf, m]) => ({
      mf,
      requests: m.requests,
      errors: m.errors,
      seconds: m.totalTime,
    }));
  }

  /** The newest `n` failures, oldest first (copies). */
  recentErrors(n = 10): RecentError[] {
    return this.#errors.last(n).map((e) => ({ ...e }));
  }
}

/** `health_indicators` of contract §4.7, with configurable thresholds. */
export function healthIndicators(
  p: PerformanceMetrics,
  t: { errorRateWarn: number; responseTime: number },
) {
  let overall: "healthy" | "degraded" = "healthy";
  const concerns: string[] = [];
  const recommendations: string[] = [];
  if (p.error_rate > t.errorRateWarn) {
    overall = "degraded";
    concerns.push(`High error rate: ${(p.error_rate * 100).toFixed(1)}%`);
    recommendations.push("Investigate recent errors and performance issues");
  }
  if (p.avg_response_time > t.responseTime) {
    overall = "degraded";
    concerns.push(`Slow response time: ${p.avg_response_time.toFixed(2)}s`);
    recommendations.push("Check resource usage and optimize slow operations");
  }
  if (p.requests_per_second > 50) {
    concerns.push(`High load: ${p.requests_per_second.toFixed(1)} req/s`);
    recommendations.push("Monitor resource usage and consider scaling");
  }
  return { overall_health: overall, concerns, recommendations };
}
