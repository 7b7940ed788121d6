/**
 * @module
 * The process-level parts a daemon run by the CLI installs (tests running many daemons in one
 * process do not): the unhandled-rejection guard, no core dumps, and SIGTERM/SIGINT (graceful
 * stop) and SIGHUP (reopen the logs).
 */

import type { LineLogger } from "../log/mod.ts";
import { disableCoreDumps, guardProcess } from "../process_guard.ts";

/** Installs the guard and the signal handlers; returns a function that removes them. */
export function installProcessHandlers(
  log: LineLogger,
  reopenLogs: () => void,
  stop: (reason: string) => void,
): () => void {
  // The process-level guard: an unhandled rejection anywhere is logged, never fatal.
  const unguard = guardProcess((m) => log.error(m));
  // Core dumps would hold passwords and keys (the shipped systemd unit also sets LimitCORE=0).
  const coreErr = disableCoreDumps();
  if (coreErr) log.warn(`Could not disable core dumps (RLIMIT_CORE): ${coreErr}`);
  const onSignal = (sig: Deno.Signal, n: number) => () => {
    log.info(`Received signal ${n}, initiating graceful shutdown...`);
    stop(sig);
  };
  const handlers: Array<[Deno.Signal, () => void]> = [
    ["SIGTERM", onSignal("SIGTERM", 15)],
    ["SIGINT", onSignal("SIGINT", 2)],
    ["SIGHUP", () => {
      log.info("Received signal 1, reopening log files");
      reopenLogs();
    }],
  ];
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  return () => {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    unguard();
  };
}
