/**
 * @module
 * `startDaemon(config)`: wires the parts of a daemon together (logs, socket, helper worker,
 * counters, timers, signals) and returns a handle to stop it. It holds no request logic itself.
 */

import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { DaemonContext } from "./daemon_context.ts";
import { WorkerPool } from "./host/worker_pool.ts";
import type { HelperHost } from "./host/types.ts";
import { type Logs, openLogs } from "./log/mod.ts";
import { pyListRepr } from "./log/format.ts";
import { ConnectionTracker } from "./ops/connections.ts";
import { PerformanceMonitor } from "./ops/performance.ts";
import { ResourceMonitor } from "./ops/resources.ts";
import { SecurityMonitor } from "./ops/security.ts";
import { Stats } from "./ops/stats.ts";
import { Throttle } from "./ops/throttle.ts";
import { acceptLoop as runAcceptLoop } from "./server/accept_loop.ts";
import { serveConnection } from "./server/connection.ts";
import { bindSocket, type BoundSocket, StartupError } from "./server/socket.ts";
import { helperSettings, sharedSocketWarning } from "./helper_settings.ts";
import { PROTOCOL_VERSION, VERSION } from "./version.ts";
import { disableCoreDumps, guardProcess } from "./process_guard.ts";
import { openOwnedFile } from "./log/safe_open.ts";

/** Options beyond the configuration. */
export interface DaemonOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (the CLI does; tests running many daemons do not). */
  readonly handleSignals?: boolean;
  /** Replaces the helper worker (tests). */
  readonly host?: (
    log: (level: "debug" | "info" | "warn" | "error", m: string) => void,
  ) => HelperHost;
  /** Shown as system.info python_executable. */
  readonly executable?: string;
}

/** A running daemon. */
export interface RunningDaemon {
  readonly socketPath: string;
  readonly context: DaemonContext;
  /** Resolves when the daemon has stopped. */
  readonly finished: Promise<void>;
  /** Stops accepting, lets in-flight requests finish (bounded), cleans up. */
  stop(reason?: string): Promise<void>;
}

/** How long connections already queued at shutdown have to be accepted. */
const BACKLOG_GRACE_MS = 250;

/** How long in-flight requests may take to finish at shutdown. */
const DRAIN_MS = 30_000;

async function takeLock(socketPath: string): Promise<Deno.FsFile> {
  const lockPath = `${socketPath}.lock`;
  // Never through a symbolic link or into another user's file (/tmp is shared).
  const f = openOwnedFile(lockPath, { read: true, write: true }, 0o600, "lock file");
  const ok = await f.tryLock(true);
  if (!ok) {
    f.close();
    throw new StartupError(
      `Cannot start: another cpan-bridge daemon holds ${lockPath}; it is starting or serving ${socketPath}`,
    );
  }
  await f.truncate(0);
  await f.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return f;
}

/**
 * Starts a daemon. Resolves once the socket accepts connections.
 *
 * @throws {StartupError} live daemon on the path, lock held, unusable socket path
 * @throws {Error} "Cannot open log file …" for a missing or read-only log directory
 */
export async function startDaemon(
  config: Config,
  opts: DaemonOptions = {},
): Promise<RunningDaemon> {
  const env = opts.env ?? Deno.env.toObject();
  const clock = opts.clock ?? systemClock;
  const logs: Logs = openLogs(config, env, () => clock.now());
  const log = logs.daemon;
  log.info(
    `CPAN Bridge Daemon v${PROTOCOL_VERSION} initializing... (cpan-bridge ${VERSION}, Deno ${Deno.version.deno})`,
  );
  log.info(
    `Resource limits - Memory: ${config.maxMemoryMb}MB, CPU: ${
      config.maxCpuPercent.toFixed(1)
    }%, Requests/min: ${config.maxRequestsPerMinute}, Concurrent: ${config.maxConcurrentRequests}`,
  );
  log.info(
    `Resource monitoring - Stale timeout: ${config.staleTimeout}s, Check interval: ${config.resourceCheckInterval}s`,
  );
  log.info(
    `Validation limits - String: ${config.maxStringLength}, Array: ${config.maxArrayLength}, Depth: ${config.maxObjectDepth}, Params: ${config.maxParamCount}`,
  );
  log.info(
    `Security features - Strict validation: ${
      config.strictValidation ? "True" : "False"
    }, Security logging: enabled`,
  );

  let lock: Deno.FsFile | undefined;
  let sock: BoundSocket;
  try {
    lock = await takeLock(config.socketPath);
    log.info("Creating Unix domain socket...");
    sock = await bindSocket(config.socketPath, config.socketMode, config.socketGroup);
  } catch (err) {
    log.error(`Fatal error starting daemon: ${err instanceof Error ? err.message : err}`);
    lock?.close();
    await logs.close();
    throw err;
  }
  log.info(`Unix domain socket created at ${config.socketPath}`);
  const shared = sharedSocketWarning(config);
  if (shared) log.warn(shared);

  const hostLog = (level: "debug" | "info" | "warn" | "error", m: string) => log[level](m);
  log.info("Loading helper modules...");
  const host = opts.host ? opts.host(hostLog) : new WorkerPool(
    config.helperWorkers,
    helperSettings(config, env),
    hostLog,
    config.encoding === "repair",
    [],
    true, // workers beyond the first start only when calls overlap (13-16 MB each)
  );
  host.ready.then(
    () =>
      log.info(
        `Successfully loaded ${new Set(host.modules()).size} helper modules: ${
          pyListRepr([...new Set(host.modules())])
        }`,
      ),
    (err) =>
      log.error(`Could not load helper modules: ${err instanceof Error ? err.message : err}`),
  );

  const stats = new Stats(clock.now());
  const security = new SecurityMonitor(logs.security, () => clock.now());
  const resources = new ResourceMonitor(config);
  let stopping = false;
  let stopPromise: Promise<void> | undefined;
  let resolveFinished!: () => void;
  const finished = new Promise<void>((r) => (resolveFinished = r));

  const d: DaemonContext = {
    config,
    clock,
    logs,
    stats,
    perf: new PerformanceMonitor(clock.now()),
    security,
    connections: new ConnectionTracker(),
    resources,
    throttle: new Throttle(
      {
        maxConcurrent: config.maxConcurrentRequests,
        maxPerMinute: config.throttlePerMinute,
        waitMs: config.throttleWait * 1000,
      },
      () => clock.now(),
    ),
    host,
    socketPath: config.socketPath,
    executable: opts.executable ?? Deno.execPath(),
    inFlight: 0,
    requestShutdown: (reason) => void stop(reason),
    get stopping() {
      return stopping;
    },
  };

  // Background work: timers only count and sample; none of them blocks the accept loop.
  const timers: ReturnType<typeof setInterval>[] = [];
  const every = (ms: number, fn: () => unknown) => {
    timers.push(setInterval(() => {
      try {
        const r = fn();
        if (r instanceof Promise) {
          r.catch((e) =>
            log.error(`Background task failed: ${e instanceof Error ? e.message : e}`)
          );
        }
      } catch (e) {
        log.error(`Background task failed: ${e instanceof Error ? e.message : e}`);
      }
    }, ms));
  };
  log.info("Starting background threads...");
  every(2000, () => resources.sample());
  every(config.resourceCheckInterval * 1000, () => {
    stats.lastResourceCheck = clock.now();
    const r = d.resources.status(d.throttle.perMinute(), d.throttle.active);
    if (r.violations.length) {
      log.critical(`RESOURCE VIOLATION: ${pyListRepr(r.violations)}`);
      log.critical(
        `Memory: ${r.memory_mb.toFixed(1)}MB, CPU: ${
          r.cpu_percent.toFixed(1)
        }%, Requests/min: ${r.requests_per_minute}, Concurrent: ${r.concurrent_requests}`,
      );
    } else if (r.warnings.length) log.warn(`Resource warning: ${pyListRepr(r.warnings)}`);
  });
  every(60_000, () => {
    log.info(
      `Health check - Uptime: ${
        ((clock.now() - stats.startTime) / 1000).toFixed(0)
      }s, Requests: ${stats.requestsProcessed}, Errors: ${stats.requestsFailed}, Active connections: ${d.connections.size}/${stats.peakConnections} (current/peak)`,
    );
  });
  every(config.cleanupInterval * 1000, async () => {
    const r = d.connections.cleanup(clock.now(), config.staleTimeout * 1000);
    if (r.cleaned_connections > 0) {
      log.info(`Cleaned up ${r.cleaned_connections} stale connections`);
    }
    if (host.state() === "ready") {
      await host.sweep();
      await host.cleanupStale();
    }
    stats.lastCleanup = clock.now();
  });
  log.info("Cleanup thread started");
  log.info("Health monitoring thread started");
  log.info("Resource monitoring thread started");

  const inFlight = new Set<Promise<void>>();
  // A failed accept (EMFILE) never ends the loop: see server/accept_loop.ts.
  const acceptLoop = runAcceptLoop(sock.listener, {
    d,
    serve: (conn) => {
      const p = serveConnection(d, conn);
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    },
    stopping: () => stopping,
  });

  const signalHandlers: Array<[Deno.Signal, () => void]> = [];
  let unguard: (() => void) | undefined;
  if (opts.handleSignals) {
    // The process-level guard: an unhandled rejection anywhere is logged, never fatal.
    unguard = guardProcess((m) => log.error(m));
    // Core dumps would hold passwords and keys (the shipped systemd unit also sets LimitCORE=0).
    const coreErr = disableCoreDumps();
    if (coreErr) log.warn(`Could not disable core dumps (RLIMIT_CORE): ${coreErr}`);
    const onSignal = (sig: Deno.Signal, n: number) => () => {
      log.info(`Received signal ${n}, initiating graceful shutdown...`);
      void stop(sig);
    };
    signalHandlers.push(["SIGTERM", onSignal("SIGTERM", 15)], ["SIGINT", onSignal("SIGINT", 2)], [
      "SIGHUP",
      () => {
        log.info("Received signal 1, reopening log files");
        logs.reopen();
      },
    ]);
    for (const [s, h] of signalHandlers) Deno.addSignalListener(s, h);
  }

  function stop(reason = "stop requested"): Promise<void> {
    if (stopPromise) return stopPromise;
    stopping = true;
    stopPromise = (async () => {
      log.info(`Shutting down daemon... (${reason})`);
      // First the path goes, so no new client can connect; clients already queued in the
      // listen backlog are still accepted and answered during a short grace, then the listener
      // closes. Closing it at once would reset those queued connections.
      if (sock.remove()) log.info(`Removed socket file: ${sock.path}`);
      else log.info(`Socket file ${sock.path} now belongs to another daemon; left in place`);
      await new Promise((r) => setTimeout(r, BACKLOG_GRACE_MS));
      try {
        sock.listener.close();
      } catch { /* closed */ }
      await acceptLoop;
      log.info("Waiting for threads to finish...");
      let drainTimer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((r) => (drainTimer = setTimeout(r, DRAIN_MS))),
      ]);
      clearTimeout(drainTimer);
      for (const t of timers) clearInterval(t);
      for (const [s, h] of signalHandlers) Deno.removeSignalListener(s, h);
      unguard?.();
      await host.close();
      try {
        lock?.close();
        Deno.removeSync(`${config.socketPath}.lock`);
      } catch { /* gone */ }
      log.info("Daemon shutdown complete");
      await logs.close();
      resolveFinished();
    })();
    return stopPromise;
  }

  await host.ready.catch(() => {});
  log.info(`CPAN Bridge Daemon v${PROTOCOL_VERSION} started successfully`);
  log.info(`Listening on ${config.socketPath}`);
  log.info(`Loaded modules: ${pyListRepr([...new Set(host.modules())])}`);
  return { socketPath: config.socketPath, context: d, finished, stop };
}
