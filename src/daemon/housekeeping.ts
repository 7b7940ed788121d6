/**
 * @module
 * The daemon's housekeeping, as the janitor's tasks (src/janitor.ts): CPU and memory sampling,
 * the resource check, the health line, stale connections, idle helper handles and workers, the
 * log files' paths and the heap's garbage (`src/heap_trim.ts`). Each is a small function of the
 * `DaemonContext`; each eviction is logged with its reason.
 * The log texts are the Python daemon's where it had them (contract §6.5, §6.6).
 */

import type { DaemonContext } from "../daemon_context.ts";
import type { JanitorTask } from "../janitor.ts";
import { pyListRepr } from "../log/format.ts";
import { WORKER_IDLE_CHECK_MS } from "../host/worker_pool.ts";
import { collectedText, exposedGc, isolateHeapTrim } from "../heap_trim.ts";

/** How often CPU and RSS are sampled (contract §6.4: served from cache between samples). */
export const SAMPLE_MS = 2000;

/** The health line's fixed period (contract §6.6). */
export const HEALTH_LINE_MS = 60_000;

/** How often the log files' paths are checked for an outside rotation. */
export const LOG_CHECK_MS = 10_000;

/** How often the heap's growth is looked at (its thresholds are in `heap_trim.ts`). */
export const HEAP_TRIM_MS = 1000;

/** Samples CPU and memory. */
export function sampleResources(d: DaemonContext): void {
  d.resources.sample();
}

/** Computes R and logs violations (CRITICAL) or warnings (WARNING); sets `last_resource_check`. */
export function checkResources(d: DaemonContext): void {
  const log = d.logs.daemon;
  d.stats.lastResourceCheck = d.clock.now();
  const r = d.resources.status(d.throttle.perMinute(), d.throttle.active);
  if (r.violations.length) {
    log.critical(`RESOURCE VIOLATION: ${pyListRepr(r.violations)}`);
    log.critical(
      `Memory: ${r.memory_mb.toFixed(1)}MB, CPU: ${
        r.cpu_percent.toFixed(1)
      }%, Requests/min: ${r.requests_per_minute}, Concurrent: ${r.concurrent_requests}`,
    );
  } else if (r.warnings.length) log.warn(`Resource warning: ${pyListRepr(r.warnings)}`);
}

/** Logs the periodic `Health check - …` line. */
export function logHealth(d: DaemonContext): void {
  const s = d.stats;
  d.logs.daemon.info(
    `Health check - Uptime: ${
      ((d.clock.now() - s.startTime) / 1000).toFixed(0)
    }s, Requests: ${s.requestsProcessed}, Errors: ${s.requestsFailed}, Active connections: ${d.connections.size}/${s.peakConnections} (current/peak)`,
  );
}

/**
 * Closes connections idle past the stale timeout, one line each with its idle time; returns the
 * `system.cleanup` report (contract §4.9).
 */
export function closeStaleConnections(
  d: DaemonContext,
): ReturnType<DaemonContext["connections"]["cleanup"]> {
  const staleS = d.config.staleTimeout;
  const r = d.connections.cleanup(d.clock.now(), staleS * 1000);
  for (const c of r.connections_details) {
    d.logs.daemon.info(
      `Closed stale connection ${c.connection_id}: idle for ${
        c.idle_time.toFixed(1)
      } s (stale timeout ${staleS} s)`,
    );
  }
  if (r.cleaned_connections > 0) {
    d.logs.daemon.info(`Cleaned up ${r.cleaned_connections} stale connections`);
  }
  return r;
}

/**
 * Closes helper handles whose owner process has exited or that were unused past
 * CPAN_BRIDGE_HANDLE_TTL (the host logs each one with its reason) and runs the helpers' cleanup
 * hooks; sets `last_cleanup`. Skipped while helpers are loading or failed.
 */
export async function sweepHandles(d: DaemonContext): Promise<void> {
  if (d.host.state() === "ready") {
    const n = await d.host.sweep();
    if (n > 0) {
      d.logs.daemon.info(
        `Swept ${n} helper handles: their owner process exited, or unused for longer than CPAN_BRIDGE_HANDLE_TTL (${d.config.handleTtl} s)`,
      );
    }
    await d.host.cleanupStale();
  }
  d.stats.lastCleanup = d.clock.now();
}

/** Reopens a log file that was moved or removed from outside (a rotation without SIGHUP). */
export async function checkLogFiles(d: DaemonContext): Promise<void> {
  for (const moved of (await d.logs.checkPaths?.()) ?? []) {
    d.logs.daemon.warn(
      `Reopened log file ${moved.path}: it was ${moved.reason} by someone else (no SIGHUP)`,
    );
  }
}

/** The heap-trim task (see `heap_trim.ts`), given V8's `gc()`; logs each collection at DEBUG. */
export function heapTrimTask(d: DaemonContext, collect: (thorough: boolean) => void): JanitorTask {
  const trim = isolateHeapTrim(collect, () => d.clock.now(), () => d.stats.connectionsTotal);
  return {
    name: "heap trim",
    periodMs: HEAP_TRIM_MS,
    run: () => {
      const r = trim.tick();
      if (r.collected) d.logs.daemon.debug(`Heap collected: ${collectedText(r)}`);
      // Each helper worker has its own heap, trimmed the same way on its own thread.
      d.host.trimHeaps?.();
    },
  };
}

/** The janitor's tasks for a daemon, in the order a tick runs them. */
export function housekeepingTasks(d: DaemonContext): JanitorTask[] {
  const c = d.config;
  const gc = exposedGc();
  return [
    { name: "resource sampling", periodMs: SAMPLE_MS, run: () => sampleResources(d) },
    {
      name: "resource check",
      periodMs: c.resourceCheckInterval * 1000,
      run: () => checkResources(d),
    },
    { name: "health line", periodMs: HEALTH_LINE_MS, run: () => logHealth(d) },
    {
      name: "stale connections",
      periodMs: c.cleanupInterval * 1000,
      run: () => void closeStaleConnections(d),
    },
    { name: "idle handles", periodMs: c.cleanupInterval * 1000, run: () => sweepHandles(d) },
    { name: "log files", periodMs: LOG_CHECK_MS, run: () => checkLogFiles(d) },
    {
      name: "idle helper workers",
      periodMs: WORKER_IDLE_CHECK_MS,
      run: () => void d.host.retireIdle?.(),
    },
    ...(gc ? [heapTrimTask(d, gc)] : []),
  ];
}
