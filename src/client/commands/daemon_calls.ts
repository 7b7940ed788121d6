/**
 * @module
 * The commands that ask the running daemon one thing and print the answer: `--health`,
 * `--metrics`, `status`, `ping`, `cleanup`, `stop`, `call` and `dashboard`. Each resolves to its
 * exit code; an unreachable daemon throws `UnreachableError` (exit 3 in `runCli`).
 */

import { callFunction } from "../bridge_client.ts";
import { runDashboard } from "../dashboard.ts";
import { checkHealth, stripShim } from "../fast/health.ts";
import { statusLine } from "../format.ts";
import type { ConfiguredInput, Output } from "./types.ts";

/** `--health [--json]`: one Nagios-style line (or the JSON); exit 0/1/2 by status, 3 unknown. */
export function health({ io, values, config }: ConfiguredInput): Promise<number> {
  return checkHealth(config.socketPath, values.json === true, io);
}

async function metricsOf(
  io: Output,
  socket: string,
): Promise<Record<string, unknown> | undefined> {
  const reply = await callFunction(socket, "system", "metrics", {}, 5000);
  if (reply.success !== true) {
    io.err(`cpan-bridge: ${String(reply.error)}`);
    return undefined;
  }
  return stripShim(reply.result as Record<string, unknown>);
}

/** `--metrics`: `system.metrics` as indented JSON. */
export async function metrics({ io, config }: ConfiguredInput): Promise<number> {
  const r = await metricsOf(io, config.socketPath);
  if (!r) return 1;
  io.out(JSON.stringify(r, null, 2));
  return 0;
}

/** `status`: one line from `system.metrics`. */
export async function status({ io, config }: ConfiguredInput): Promise<number> {
  const r = await metricsOf(io, config.socketPath);
  if (!r) return 1;
  io.out(statusLine(r));
  return 0;
}

/** Calls `module.fn` with no params; prints the error and resolves undefined on a failure. */
async function simpleCall(
  io: Output,
  socket: string,
  module: string,
  fn: string,
): Promise<Record<string, unknown> | undefined> {
  const reply = await callFunction(socket, module, fn, {}, 5000);
  if (reply.success !== true) {
    io.err(`cpan-bridge: ${String(reply.error)}`);
    return undefined;
  }
  return reply.result as Record<string, unknown>;
}

/** `ping`: `test.ping`, and the daemon's uptime. */
export async function ping({ io, config }: ConfiguredInput): Promise<number> {
  const socket = config.socketPath;
  const r = await simpleCall(io, socket, "test", "ping");
  if (!r) return 1;
  io.out(`pong from ${socket} (uptime ${Number(r.uptime).toFixed(1)} s)`);
  return 0;
}

/** `cleanup`: `system.cleanup`, and what it closed. */
export async function cleanup({ io, config }: ConfiguredInput): Promise<number> {
  const r = await simpleCall(io, config.socketPath, "system", "cleanup");
  if (!r) return 1;
  io.out(
    `Cleaned ${r.cleaned_connections} stale connections, ${r.remaining_connections} remaining`,
  );
  return 0;
}

/** `stop`: `system.shutdown`; resolves once shutdown has begun. */
export async function stop({ io, config }: ConfiguredInput): Promise<number> {
  const r = await simpleCall(io, config.socketPath, "system", "shutdown");
  if (!r) return 1;
  io.out(String(r.message));
  return 0;
}

/** `call MODULE FUNCTION [JSON]`: any function; prints the whole reply envelope. */
export async function call({ io, positionals, config }: ConfiguredInput): Promise<number> {
  const [, module, fn, json] = positionals;
  if (!module || !fn) {
    io.err("cpan-bridge: call needs MODULE FUNCTION [JSON params]; see cpan-bridge --help");
    return 64;
  }
  let params: unknown = {};
  if (json !== undefined) {
    try {
      params = JSON.parse(json);
    } catch (err) {
      io.err(`cpan-bridge: Cannot parse params as JSON: ${(err as Error).message}`);
      return 64;
    }
  }
  const reply = await callFunction(config.socketPath, module, fn, params, 600_000);
  io.out(JSON.stringify(reply, null, 2));
  return reply.success === true ? 0 : 1;
}

/** `dashboard [--interval N] [--count N]`: the terminal dashboard. */
export function dashboard({ values, config }: ConfiguredInput): Promise<number> {
  return runDashboard(
    config.socketPath,
    Number(values.interval ?? "5"),
    values.count ? Number(values.count) : undefined,
  );
}
