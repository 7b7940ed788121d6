/**
 * @module
 * The start-up parts of a daemon, in the order `startDaemon` uses them: the configuration lines of
 * contract §7.1, the lock and the socket, the helper host. Each logs its own lines.
 */

import type { Config } from "../config.ts";
import { helperSettings, sharedSocketWarning } from "../helper_settings.ts";
import { WorkerPool } from "../host/worker_pool.ts";
import type { HelperHost } from "../host/types.ts";
import { pyListRepr } from "../log/format.ts";
import type { LineLogger, Logs } from "../log/mod.ts";
import { openOwnedFile } from "../log/safe_open.ts";
import { StartupError } from "../errors.ts";
import { bindSocket, type BoundSocket } from "../server/socket.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";

/** How a host logs (the daemon log's levels). */
export type HostLog = (level: "debug" | "info" | "warn" | "error", m: string) => void;

/** Logs the five configuration lines of contract §7.1. */
export function logConfiguration(log: LineLogger, config: Config): void {
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
}

/**
 * Takes `<socket>.lock` (holding this PID) so that one daemon at a time starts on a path.
 *
 * @throws {StartupError} another daemon holds the lock
 */
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

/** The lock and the bound socket of a daemon. */
export interface Endpoint {
  readonly lock: Deno.FsFile;
  readonly sock: BoundSocket;
}

/**
 * Takes the lock and binds the socket. On failure logs the fatal line, releases what it took,
 * closes the logs and rethrows.
 *
 * @throws {StartupError} live daemon on the path, lock held, unusable socket path
 */
export async function openEndpoint(config: Config, logs: Logs): Promise<Endpoint> {
  const log = logs.daemon;
  let lock: Deno.FsFile | undefined;
  try {
    lock = await takeLock(config.socketPath);
    log.info("Creating Unix domain socket...");
    const sock = await bindSocket(config.socketPath, config.socketMode, config.socketGroup);
    log.info(`Unix domain socket created at ${config.socketPath}`);
    const shared = sharedSocketWarning(config);
    if (shared) log.warn(shared);
    return { lock, sock };
  } catch (err) {
    log.error(`Fatal error starting daemon: ${err instanceof Error ? err.message : err}`);
    lock?.close();
    await logs.close();
    throw err;
  }
}

/** Starts the helper host (the worker pool unless a test gives one) and logs what it loaded. */
export function startHost(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  make: ((log: HostLog) => HelperHost) | undefined,
  log: LineLogger,
): HelperHost {
  const hostLog: HostLog = (level, m) => log[level](m);
  log.info("Loading helper modules...");
  const host = make ? make(hostLog) : new WorkerPool(
    config.helperWorkers,
    helperSettings(config, env),
    hostLog,
    config.encoding === "repair",
    [],
    true, // lazy: no worker until a helper call needs one, more only when calls overlap (13-16 MB each)
    { idleMs: config.helperWorkerIdle * 1000 },
  );
  host.ready.then(
    () => {
      const modules = [...new Set(host.modules())];
      log.info(`Successfully loaded ${modules.length} helper modules: ${pyListRepr(modules)}`);
    },
    (err) =>
      log.error(`Could not load helper modules: ${err instanceof Error ? err.message : err}`),
  );
  return host;
}
