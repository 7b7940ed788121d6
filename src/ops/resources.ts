/**
 * @module
 * Resource sampling (contract §4.1 R, §6.4). DEFECT-FIX D3: CPU is sampled in one place on a
 * timer, as the change of the process's CPU time (`/proc/self/stat`, all threads) over the
 * wall-clock interval, and served from cache; RSS is read at the same time.
 */

/** CPU seconds used by this process so far (user + system, all threads). */
export function processCpuSeconds(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    // Fields after the ")" of the command name: state is field 3; utime/stime are 14/15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(rest[11]) + Number(rest[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0; // no /proc (not Linux): CPU is reported as 0
  }
}

/** Resident set size in bytes. */
export function rssBytes(): number {
  return Deno.memoryUsage().rss;
}

export interface ResourceLimits {
  readonly maxMemoryMb: number;
  readonly maxCpuPercent: number;
  readonly maxRequestsPerMinute: number;
  readonly maxConcurrentRequests: number;
}

/** The latest sample plus peaks; `status()` builds R. */
export class ResourceMonitor {
  memoryMb = 0;
  cpuPercent = 0;
  peakMemory = 0;
  peakCpu = 0;
  readonly alerts: Record<string, number> = {};
  readonly #active = new Set<string>();
  #lastCpu = processCpuSeconds();
  #lastWall = performance.now();
  readonly #limits: ResourceLimits;

  constructor(limits: ResourceLimits) {
    this.#limits = limits;
    this.memoryMb = rssBytes() / 1048576;
    this.peakMemory = this.memoryMb;
  }

  /** Takes a sample: CPU % over the time since the previous sample, and RSS. */
  sample(): void {
    const cpu = processCpuSeconds();
    const wall = performance.now();
    const dt = (wall - this.#lastWall) / 1000;
    if (dt > 0.2) {
      this.cpuPercent = Math.max(0, ((cpu - this.#lastCpu) / dt) * 100);
      this.#lastCpu = cpu;
      this.#lastWall = wall;
    }
    this.memoryMb = rssBytes() / 1048576;
    this.peakMemory = Math.max(this.peakMemory, this.memoryMb);
    this.peakCpu = Math.max(this.peakCpu, this.cpuPercent);
  }

  /** Resource status R (contract §4.1) for the given request counters. */
  status(requestsPerMinute: number, concurrent: number) {
    const l = this.#limits;
    const violations: string[] = [];
    const warnings: string[] = [];
    const check = (key: string, over: boolean, text: string, warn: boolean, warnText: string) => {
      if (over) {
        violations.push(text);
        if (!this.#active.has(key)) {
          this.#active.add(key);
          this.alerts[key] = (this.alerts[key] ?? 0) + 1;
        }
      } else {
        this.#active.delete(key);
        if (warn) warnings.push(warnText);
      }
    };
    const m = this.memoryMb, c = this.cpuPercent;
    check(
      "memory",
      m > l.maxMemoryMb,
      `Memory usage ${m.toFixed(1)}MB exceeds limit ${l.maxMemoryMb}MB`,
      m > l.maxMemoryMb * 0.8,
      `Memory usage ${m.toFixed(1)}MB approaching limit ${l.maxMemoryMb}MB`,
    );
    check(
      "cpu",
      c > l.maxCpuPercent,
      `CPU usage ${c.toFixed(1)}% exceeds limit ${l.maxCpuPercent.toFixed(1)}%`,
      c > l.maxCpuPercent * 0.8,
      `CPU usage ${c.toFixed(1)}% approaching limit ${l.maxCpuPercent.toFixed(1)}%`,
    );
    check(
      "requests",
      requestsPerMinute > l.maxRequestsPerMinute,
      `Request rate ${requestsPerMinute}/min exceeds limit ${l.maxRequestsPerMinute}/min`,
      requestsPerMinute > l.maxRequestsPerMinute * 0.8,
      `Request rate ${requestsPerMinute}/min approaching limit ${l.maxRequestsPerMinute}/min`,
    );
    check(
      "concurrent",
      concurrent > l.maxConcurrentRequests,
      `Concurrent requests ${concurrent} exceeds limit ${l.maxConcurrentRequests}`,
      concurrent > l.maxConcurrentRequests * 0.8,
      `Concurrent requests ${concurrent} approaching limit ${l.maxConcurrentRequests}`,
    );
    return {
      memory_mb: m,
      cpu_percent: c,
      requests_per_minute: requestsPerMinute,
      concurrent_requests: concurrent,
      violations,
      warnings,
      peak_memory: this.peakMemory,
      peak_cpu: this.peakCpu,
      alerts: { ...this.alerts },
    };
  }
}
