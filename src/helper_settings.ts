/**
 * @module
 * The settings the daemon hands its helpers (`HelperSettings`), from its configuration: limits,
 * and which paths helpers may use (the daemon's own files never; only the allowed directories
 * when CPAN_BRIDGE_ALLOWED_PATHS is set).
 */

import type { HelperSettings } from "../helpers/types.ts";
import type { Config } from "./config.ts";
import { logPaths } from "./log/mod.ts";

/** The helper settings of a daemon with `config`. */
export function helperSettings(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): HelperSettings {
  const logs = logPaths(config, env);
  const own = [config.socketPath, `${config.socketPath}.lock`];
  for (const p of [logs.daemon, logs.security]) if (p !== "-") own.push(p);
  return {
    handleTtlMs: config.handleTtl * 1000,
    helperTimeoutMs: config.helperTimeout * 1000,
    maxFileBytes: config.maxFileBytes,
    debug: config.debug,
    ...(config.maxHandlesPerClient > 0 ? { maxHandlesPerClient: config.maxHandlesPerClient } : {}),
    paths: {
      protectedPaths: own,
      allowedDirs: config.allowedPaths.split(":").filter((d) => d !== ""),
    },
  };
}

/**
 * The start-up warning for a socket other users can reach (mode with group or other bits): they
 * act with this daemon user's file authority, within the safeguards.
 */
export function sharedSocketWarning(config: Config): string | undefined {
  const mode = config.socketMode & 0o077;
  if (mode === 0) return undefined;
  const who = mode & 0o007
    ? "every local user"
    : `members of group ${config.socketGroup || "(the socket's group)"}`;
  return `Socket mode 0${config.socketMode.toString(8)}: ${who} can call helpers and so read and ` +
    `write files with this daemon user's authority (the daemon's own socket, lock and logs are ` +
    `refused; ${
      config.allowedPaths
        ? `only CPAN_BRIDGE_ALLOWED_PATHS=${config.allowedPaths} is reachable`
        : "set CPAN_BRIDGE_ALLOWED_PATHS to limit the rest"
    }). On shared hosts run one daemon per user (CPAN_BRIDGE_SOCKET per user)`;
}
