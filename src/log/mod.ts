/**
 * @module
 * The daemon's two logs (contract §7): the daemon log and the security log, each a rotating
 * `LogFile`. `openLogs(config)` opens both at start-up (a bad directory fails there, clearly);
 * everything else writes through the returned `Logs`.
 */

import type { Config } from "../config.ts";
import { defaultLogDir } from "../config.ts";
import { LogFile, type LogFileStats, type LogPathChange } from "./file_sink.ts";
import { daemonLine, jsonLine, type Level, scrubSecrets, securityLine } from "./format.ts";
import { boundText } from "../errors.ts";

/** Largest log message in UTF-8 bytes: one client's junk cannot rotate every other line away. */
const MAX_LINE_BYTES = 16_384;

/** Writes lines of one log at a level. */
export interface LineLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  critical(message: string): void;
}

/** Both logs of a daemon. */
export interface Logs {
  readonly daemon: LineLogger;
  readonly security: LineLogger;
  /** Counters per file. */
  stats(): { daemon: LogFileStats; security: LogFileStats };
  /** Lines dropped so far across both logs (full queue or failed writes). */
  dropped(): number;
  /** Reopens both files (SIGHUP). */
  reopen(): void;
  /** Queues a reopen of each file moved or removed from outside; returns which and why. */
  checkPaths?(): Promise<Array<{ path: string; reason: LogPathChange }>>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Resolves the two log paths from the configuration. */
export function logPaths(config: Config, env: Readonly<Record<string, string | undefined>>) {
  const dir = (config.logDir || defaultLogDir(env)).replace(/\/+$/, "") || "/";
  return {
    daemon: config.daemonLog || `${dir}/cpan_daemon.log`,
    security: config.securityLog || `${dir}/cpan_security.log`,
  };
}

/**
 * Opens both logs.
 *
 * @throws {Error} "Cannot open log file <path>: <reason>" when a directory is missing or read-only
 */
export function openLogs(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  now: () => number = Date.now,
): Logs {
  const paths = logPaths(config, env);
  const opts = {
    maxBytes: config.logMaxBytes,
    keep: config.logKeep,
    compress: config.logCompress,
    maxQueued: config.logBufferLines,
  };
  const daemonFile = new LogFile(paths.daemon, opts);
  const securityFile = new LogFile(paths.security, opts);
  const json = config.logFormat === "json";
  const debugOn = config.debug > 0;

  const make = (file: LogFile, kind: "daemon" | "security", echo?: LogFile): LineLogger => {
    const emit = (level: Level, raw: string) => {
      // Bounded first (the scrub is linear, the bound keeps it cheap), then secrets by shape,
      // at every level.
      const message = scrubSecrets(boundText(raw, MAX_LINE_BYTES));
      const t = now();
      if (json) {
        file.write(jsonLine(t, kind, level, message));
        return;
      }
      file.write(
        kind === "daemon" ? daemonLine(t, level, message) : securityLine(t, level, message),
      );
      // contract §7.2: security records also appear in the daemon log, logger CPANSecurity.
      echo?.write(daemonLine(t, level, message, "CPANSecurity"));
    };
    return {
      debug: (m) => debugOn && emit("DEBUG", m),
      info: (m) => emit("INFO", m),
      warn: (m) => emit("WARNING", m),
      error: (m) => emit("ERROR", m),
      critical: (m) => emit("CRITICAL", m),
    };
  };

  const daemon = make(daemonFile, "daemon");
  for (const f of [daemonFile, securityFile]) {
    if (f.recovered) daemon.warn(`Log start-up: ${f.recovered}`);
  }
  return {
    daemon,
    security: make(securityFile, "security", daemonFile),
    stats: () => ({ daemon: daemonFile.stats(), security: securityFile.stats() }),
    dropped: () => daemonFile.stats().dropped + securityFile.stats().dropped,
    reopen: () => {
      daemonFile.reopen();
      securityFile.reopen();
    },
    checkPaths: async () => {
      const out: Array<{ path: string; reason: LogPathChange }> = [];
      for (const f of [daemonFile, securityFile]) {
        const reason = await f.checkPath();
        if (reason) out.push({ path: f.path, reason });
      }
      return out;
    },
    flush: async () => {
      await daemonFile.flush();
      await securityFile.flush();
    },
    close: async () => {
      await daemonFile.close();
      await securityFile.close();
    },
  };
}
