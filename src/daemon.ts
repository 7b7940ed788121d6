/**
 * @module
 * `startDaemon(config)`: wires the parts of a daemon together (logs, lock and socket, helper
 * host, counters, the janitor, the accept loop, signals) and returns a handle to stop it. It
 * holds no request logic and no housekeeping itself: the parts are in src/daemon/ and
 * src/janitor.ts.
 */

import type { Clock } from "./sdk/clock.ts";
import { systemClock } from "./sdk/clock.ts";
import { type Config, processEnvironment } from "./config.ts";
import type { DaemonContext } from "./daemon_context.ts";
import { housekeepingTasks } from "./daemon/housekeeping.ts";
import { installProcessHandlers } from "./daemon/signals.ts";
import {
  type Endpoint,
  type HostLog,
  logConfiguration,
  openEndpoint,
  startHost,
} from "./daemon/startup.ts";
import type { HelperHost } from "./host/types.ts";
import { Janitor } from "./janitor.ts";
import { pyListRepr } from "./log/format.ts";
import { type Logs, openLogs } from "./log/mod.ts";
import { ConnectionTracker } from "./ops/connections.ts";
import { PerformanceMonitor } from "./ops/performance.ts";
import { ResourceMonitor } from "./ops/resources.ts";
import { SecurityMonitor } from "./ops/security.ts";
import { Stats } from "./ops/stats.ts";
import { Throttle } from "./ops/throttle.ts";
import { acceptLoop as runAcceptLoop } from "./server/accept_loop.ts";
import { serveConnection } from "./server/connection.ts";
import { PROTOCOL_VERSION } from "./version.ts";

/** Options beyond the configuration. */
export interface DaemonOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The time of the counters, the logs and the janitor's periods (default: the system clock). */
  readonly clock?: Clock;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (the CLI does; tests running many daemons do not). */
  readonly handleSignals?: boolean;
  /** Replaces the helper worker (tests). */
  readonly host?: (log: HostLog) => HelperHost;
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

/** What a daemon is made of, for `stop`. */
interface Parts {
  readonly d: DaemonContext;
  readonly endpoint: Endpoint;
  readonly janitor: Janitor;
  readonly acceptLoop: Promise<void>;
  readonly inFlight: Set<Promise<void>>;
  unhandle: () => void;
}

/** The counters and monitors of a daemon around its host. */
function makeContext(
  config: Config,
  clock: Clock,
  logs: Logs,
  host: HelperHost,
  executable: string,
  control: { stopping: boolean; stop: (reason: string) => void },
): DaemonContext {
  const now = () => clock.now();
  return {
    config,
    clock,
    logs,
    stats: new Stats(clock.now()),
    perf: new PerformanceMonitor(clock.now()),
    security: new SecurityMonitor(logs.security, now),
    connections: new ConnectionTracker(),
    resources: new ResourceMonitor(config),
    throttle: new Throttle({
      maxConcurrent: config.maxConcurrentRequests,
      maxPerMinute: config.throttlePerMinute,
      waitMs: config.throttleWait * 1000,
    }, now),
    host,
    socketPath: config.socketPath,
    executable,
    inFlight: 0,
    requestShutdown: (reason) => control.stop(reason),
    get stopping() {
      return control.stopping;
    },
  };
}

/** Starts the janitor with the daemon's housekeeping, logging the contract's "started" lines. */
function startJanitor(d: DaemonContext): Janitor {
  const log = d.logs.daemon;
  log.info("Starting background threads...");
  const janitor = new Janitor(housekeepingTasks(d), d.clock, (m) => log.error(m));
  janitor.start();
  log.info("Cleanup thread started");
  log.info("Health monitoring thread started");
  log.info("Resource monitoring thread started");
  return janitor;
}

/** Runs the accept loop; each connection is served and tracked until it settles. */
function startServing(d: DaemonContext, endpoint: Endpoint, stopping: () => boolean) {
  const inFlight = new Set<Promise<void>>();
  // A failed accept (EMFILE) never ends the loop: see server/accept_loop.ts.
  const acceptLoop = runAcceptLoop(endpoint.sock.listener, {
    d,
    serve: (conn) => {
      const p = serveConnection(d, conn);
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    },
    stopping,
  });
  return { acceptLoop, inFlight };
}

/** Resolves after `ms`. */
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the requests being served, at most DRAIN_MS. */
async function drain(inFlight: Set<Promise<void>>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise((r) => (timer = setTimeout(r, DRAIN_MS))),
  ]);
  clearTimeout(timer);
}

/** The shutdown sequence of contract §7.1 (path first, listener after a grace, then drain). */
async function shutdown(p: Parts, reason: string): Promise<void> {
  const { d, endpoint: { sock, lock } } = p;
  const log = d.logs.daemon;
  log.info(`Shutting down daemon... (${reason})`);
  // First the path goes, so no new client can connect; clients already queued in the listen
  // backlog are still accepted and answered during a short grace, then the listener closes.
  // Closing it at once would reset those queued connections.
  if (sock.remove()) log.info(`Removed socket file: ${sock.path}`);
  else log.info(`Socket file ${sock.path} now belongs to another daemon; left in place`);
  await delay(BACKLOG_GRACE_MS);
  try {
    sock.listener.close();
  } catch { /* closed */ }
  await p.acceptLoop;
  log.info("Waiting for threads to finish...");
  await drain(p.inFlight);
  p.janitor.stop();
  p.unhandle();
  await d.host.close();
  try {
    lock.close();
  } catch { /* closed */ }
  await Deno.remove(`${d.config.socketPath}.lock`).catch(() => {/* gone */});
  log.info("Daemon shutdown complete");
  await d.logs.close();
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
  const env = opts.env ?? processEnvironment();
  const clock = opts.clock ?? systemClock;
  const logs = openLogs(config, env, () => clock.now());
  const log = logs.daemon;
  logConfiguration(log, config);
  const endpoint = await openEndpoint(config, logs);
  const host = startHost(config, env, opts.host, log);

  let stopPromise: Promise<void> | undefined;
  let resolveFinished: () => void = () => {};
  const finished = new Promise<void>((r) => (resolveFinished = r));
  const control = { stopping: false, stop: (reason: string) => void stop(reason) };
  const d = makeContext(config, clock, logs, host, opts.executable ?? Deno.execPath(), control);
  const janitor = startJanitor(d);
  const { acceptLoop, inFlight } = startServing(d, endpoint, () => control.stopping);
  const parts: Parts = { d, endpoint, janitor, acceptLoop, inFlight, unhandle: () => {} };
  if (opts.handleSignals) parts.unhandle = installProcessHandlers(log, logs.reopen, control.stop);

  function stop(reason = "stop requested"): Promise<void> {
    control.stopping = true;
    stopPromise ??= shutdown(parts, reason).then(resolveFinished);
    return stopPromise;
  }

  await host.ready.catch(() => {});
  log.info(`CPAN Bridge Daemon v${PROTOCOL_VERSION} started successfully`);
  log.info(`Listening on ${config.socketPath}`);
  log.info(`Loaded modules: ${pyListRepr([...new Set(host.modules())])}`);
  return { socketPath: config.socketPath, context: d, finished, stop };
}
