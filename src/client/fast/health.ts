/**
 * @module
 * `cpan-bridge --health [--json] [--socket PATH]`, the monitoring probe: `system.health` (and
 * `system.metrics` for the perfdata) from the daemon, one Nagios-style line or the JSON, exit 0
 * healthy, 1 degraded, 2 unhealthy, 3 unknown or unreachable. It imports only the configuration
 * table, the socket-owner check, the wire client and the line format, so that `main.ts` can answer
 * it without loading the daemon (docs/binary.md); the output is the same as through `runCli`.
 */

// deno-lint-ignore-file no-console

import { ConfigError, loadConfig, processEnvironment } from "../../config.ts";
import { foreignDaemon } from "../../server/socket.ts";
import { callFunction } from "../bridge_client.ts";
import { healthLine } from "../format.ts";

/** Where the command's lines go (the console, or a test's arrays). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

const CONSOLE: Output = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** The exit code of each health state; anything else is 3. */
const EXIT: Record<string, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** Removes the ops-shim copies (`success`, `result`) from a system.* result for display. */
export function stripShim(r: Record<string, unknown>): Record<string, unknown> {
  const { success: _s, result: _r, ...rest } = r;
  return rest;
}

/**
 * Asks the daemon at `socket` and prints the health line (or JSON); returns the exit code.
 * The socket's owner has been checked already (see {@link runHealth}).
 */
export async function checkHealth(
  socket: string,
  json: boolean,
  io: Output = CONSOLE,
): Promise<number> {
  let reply;
  try {
    reply = await callFunction(socket, "system", "health", {}, 5000);
  } catch (err) {
    const message = String((err as Error).message);
    if (json) io.out(JSON.stringify({ overall_status: "unreachable", error: message }));
    else io.out(`CPAN-BRIDGE UNKNOWN - unreachable: ${message}`);
    return 3;
  }
  const r = reply.result as Record<string, unknown> | undefined;
  if (reply.success !== true || !r) {
    io.out(`CPAN-BRIDGE UNKNOWN - ${String(reply.error ?? "no result")}`);
    return 3;
  }
  const metrics = await callFunction(socket, "system", "metrics", {}, 5000).catch(() => undefined);
  if (json) io.out(JSON.stringify(stripShim(r)));
  else io.out(healthLine(r, metrics?.result as Record<string, unknown> | undefined));
  return EXIT[String(r.overall_status)] ?? 3;
}

/**
 * The whole command as `runCli` runs it: the configuration from `env` (exit 78 on a bad
 * setting), the refusal of another user's daemon (exit 3), then {@link checkHealth}.
 */
export async function runHealth(
  opts: { readonly json: boolean; readonly socket?: string },
  env: Record<string, string> = processEnvironment(),
  io: Output = CONSOLE,
): Promise<number> {
  let config;
  try {
    config = loadConfig(env, opts.socket === undefined ? {} : { socketPath: opts.socket });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`cpan-bridge: ${err.message}`);
    return 78;
  }
  const socket = config.socketPath;
  const foreign = foreignDaemon(socket, config.allowForeignDaemon);
  if (foreign?.refusal) {
    if (opts.json) {
      io.out(JSON.stringify({ overall_status: "unreachable", error: foreign.refusal }));
    } else io.out(`CPAN-BRIDGE UNKNOWN - ${foreign.refusal}`);
    return 3;
  }
  if (foreign) io.err(`cpan-bridge: the daemon at ${socket} belongs to ${foreign.owner}`);
  return await checkHealth(socket, opts.json, io);
}
