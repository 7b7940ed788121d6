/**
 * @module
 * The built-in pseudo-modules `test` and `system` (contract §4), as tables of functions, like
 * pgbouncer's admin command table. Each returns the `result` of a built-in envelope.
 */

import { type DaemonContext, servedModules, whitelistOf } from "../daemon_context.ts";
import { shutdownRefused, unknownSystemFunction, unknownTestFunction } from "../errors.ts";
import type { BridgeRequest } from "../protocol/validate.ts";
import { resultJson } from "../host/types.ts";
import { asciiEscapeJson } from "../wire/encoding.ts";
import { platformName, PROTOCOL_VERSION, runtimeDescription, VERSION } from "../version.ts";
import {
  healthReport,
  metricsReport,
  performanceReport,
  resourceStatus,
  statsReport,
  uptimeSeconds,
  validationConfig,
} from "./reports.ts";

/** test.* results that get `success: true` and a `result` copy from the ops shim. */
const SHIMMED_TEST = new Set(["ping", "stats", "health"]);

/** How long `test.health` waits for the helpers to finish loading before it answers. */
export const HEALTH_READY_WAIT_MS = 5_000;

/**
 * Waits (bounded) for the helper host, so that `test.health` just after start-up reports the
 * loaded modules instead of a transient "degraded" with none. True once the helpers are loaded
 * (or failed to load); false if they are still loading after the wait.
 */
async function helpersSettled(d: DaemonContext): Promise<boolean> {
  if (d.host.state() !== "loading") return true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    d.host.ready.catch(() => {}),
    new Promise((r) => (timer = setTimeout(r, HEALTH_READY_WAIT_MS))),
  ]);
  clearTimeout(timer);
  return d.host.state() !== "loading";
}

type Builtin = (d: DaemonContext, req: BridgeRequest) => unknown | Promise<unknown>;

/** `test.ping`'s fields that never change, in the reply's order (contract §4.2). */
function pingFixedFields() {
  return {
    message: "pong",
    daemon_version: PROTOCOL_VERSION,
    python_version: runtimeDescription(),
    platform: platformName(),
  };
}

const TEST: Record<string, Builtin> = {
  // contract §4.2: stats copied before this request counts as processed.
  ping: (d, req) => ({
    ...pingFixedFields(),
    uptime: uptimeSeconds(d),
    stats: d.stats.snapshot(),
    input: req.params ?? {},
  }),
  stats: (d) => ({
    ...d.stats.snapshot(),
    security_metrics: d.security.metrics(),
    validation_config: validationConfig(d),
  }),
  // contract §13.4 optional additions, implemented so documented test scripts work in daemon mode.
  echo: (_d, req) => req.params ?? {},
  check_module: (d, req) => {
    const p = req.params as Record<string, unknown> | unknown[] | undefined;
    const name = Array.isArray(p)
      ? p[0]
      : p && typeof p === "object"
      ? (p.module ?? p.module_name ?? p.name)
      : p;
    return typeof name === "string" && servedModules(d).includes(name);
  },
  // "starting" while the helpers are still loading after the bounded wait: what is true then.
  health: async (d) => ({
    status: await helpersSettled(d) ? healthReport(d).overall_status : "starting",
    daemon_version: PROTOCOL_VERSION,
    uptime: uptimeSeconds(d),
    active_connections: d.connections.size,
    loaded_modules: [...servedModules(d)],
    resources: resourceStatus(d),
    stats: d.stats.snapshot(),
  }),
};

const SYSTEM: Record<string, Builtin> = {
  info: (d) => ({
    daemon_version: PROTOCOL_VERSION,
    python_version: runtimeDescription(),
    python_executable: d.executable,
    platform: platformName(),
    working_directory: Deno.cwd(),
    socket_path: d.socketPath,
    uptime: uptimeSeconds(d),
    loaded_modules: [...servedModules(d)],
    active_connections: d.connections.size,
    configuration: {
      max_connections: d.config.maxConnections,
      max_request_size: d.config.maxRequestSize,
      connection_timeout: d.config.connectionTimeout,
      cleanup_interval: d.config.cleanupInterval,
    },
    cpan_bridge_version: VERSION,
  }),
  shutdown: (d, req) => {
    const mode = d.config.allowShutdown;
    const ownerOnly = (d.config.socketMode & 0o077) === 0;
    if (mode === "never" || (mode === "owner" && !ownerOnly)) {
      const why = mode === "never"
        ? "disabled by CPAN_BRIDGE_ALLOW_SHUTDOWN=never; stop the daemon with SIGTERM"
        : "the socket is shared with other users (CPAN_BRIDGE_SOCKET_MODE); stop the daemon with SIGTERM or set CPAN_BRIDGE_ALLOW_SHUTDOWN=always";
      d.security.record("shutdown_refused", "error", { client: "" }, {
        request_id: req.requestId,
        module: "system",
        function: "shutdown",
      }, { reason: why });
      throw shutdownRefused(why);
    }
    d.logs.daemon.info("Shutdown requested via system call");
    d.security.record("shutdown_requested", "info", { client: "" }, {
      request_id: req.requestId,
      module: "system",
      function: "shutdown",
    }, {});
    // Reply first, then stop (contract §4.5).
    queueMicrotask(() => d.requestShutdown("system.shutdown"));
    return { message: "Shutdown initiated" };
  },
  health: (d) => healthReport(d),
  performance: (d) => performanceReport(d),
  connections: (d) =>
    d.connections.report(
      d.clock.now(),
      d.config.staleTimeout * 1000,
      d.config.maxConcurrentRequests,
    ),
  cleanup: (d) => {
    const r = d.connections.cleanup(d.clock.now(), d.config.staleTimeout * 1000);
    if (r.cleaned_connections > 0) {
      d.logs.daemon.info(`Cleaned up ${r.cleaned_connections} stale connections`);
    }
    return r;
  },
  metrics: (d) => metricsReport(d),
  stats: (d) => statsReport(d),
  validation_stats: (d) => {
    const wl = whitelistOf(d);
    return {
      validation_failures: d.stats.validationFailures,
      requests_rejected: d.stats.requestsRejected,
      security_events: d.stats.securityEvents,
      events_by_type: d.security.metrics().events_by_type,
      validation_config: validationConfig(d),
      whitelist: Object.fromEntries([...wl].map(([m, fs]) => [m, [...fs]])),
    };
  },
};

/** `test.ping`'s fixed fields as JSON text, without the closing brace (serialised once). */
let pingHead: string | undefined;
/** The same, ASCII-escaped. */
let pingHeadAscii: string | undefined;

/**
 * `test.ping`'s result as JSON text: the same text as `resultJson(await runBuiltin(d, req))`
 * (key order, the ops shim's copy), built from its fixed fields serialised once and the few that
 * change (uptime, the counters, the caller's `input`). Every v2.00 call sends a liveness ping
 * first, so a ping builds no object tree of its own and serialises its counters once, not twice.
 * `ascii`: the text as `asciiEscapeJson()` would make it (repair mode), escaping only `input`,
 * the one part that can hold anything but ASCII, so the whole reply needs no scan for it.
 */
export function pingResultJson(d: DaemonContext, req: BridgeRequest, ascii = false): string {
  pingHead ??= JSON.stringify(pingFixedFields()).slice(0, -1);
  const head = ascii ? (pingHeadAscii ??= asciiEscapeJson(pingHead)) : pingHead;
  const fields = `${head},"uptime":${JSON.stringify(uptimeSeconds(d))},"stats":${
    JSON.stringify(d.stats.snapshot())
  }`;
  const json = resultJson(req.params ?? {});
  const input = `,"input":${ascii ? asciiEscapeJson(json) : json}`;
  return d.config.opsShim
    ? `${fields}${input},"success":true,"result":${fields}}}`
    : `${fields}${input}}`;
}

/**
 * Runs a built-in. With the ops shim on (contract §13.9), `system.*` results also carry
 * `success: true` and a copy of themselves under `result`, and so do `test.stats`/`health`
 * (`test.ping`'s copy leaves out `input`, the caller's own data), so the operations guide's
 * one-liners and test scripts, which read `$r->{success}` and then `$r->{result}->{…}` after the
 * v2.00 client unwrapped `result`, print real values. `test.echo` and `test.check_module` are
 * never altered: they return the caller's data as sent.
 *
 * @throws {WireError} unknown test/system function
 */
export async function runBuiltin(d: DaemonContext, req: BridgeRequest): Promise<unknown> {
  return shimmed(d, req, await callBuiltin(d, req));
}

/** A built-in's result with the ops shim's `success` and copy, where they apply (above). */
function shimmed(d: DaemonContext, req: BridgeRequest, result: unknown): unknown {
  if (!d.config.opsShim || !isPlainResult(result)) return result;
  if (req.module === "system") return { ...result, success: true, result: { ...result } };
  if (SHIMMED_TEST.has(req.function)) {
    const { input: _input, ...copy } = result;
    return { ...result, success: true, result: req.function === "ping" ? copy : { ...result } };
  }
  return result;
}

/**
 * A built-in's result as JSON text: the text of `resultJson(await runBuiltin(d, req))`, but a
 * `system.*` result's ops-shim copy is its own text spliced in, not a second serialisation of
 * the report (`system.health`'s is 2 KB: half its serialising).
 *
 * @throws {WireError} unknown test/system function
 */
export async function runBuiltinJson(d: DaemonContext, req: BridgeRequest): Promise<string> {
  const result = await callBuiltin(d, req);
  const splice = d.config.opsShim && req.module === "system" && isPlainResult(result) &&
    !("success" in result) && !("result" in result);
  return splice ? withShimCopy(resultJson(result)) : resultJson(shimmed(d, req, result));
}

/** `{…fields, "success":true, "result":{…fields}}` from an object's JSON text `{…fields}`. */
export function withShimCopy(objectJson: string): string {
  const fields = objectJson.slice(1, -1);
  return `{${fields}${fields ? "," : ""}"success":true,"result":${objectJson}}`;
}

function isPlainResult(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The built-in's own result, before the shim. */
async function callBuiltin(d: DaemonContext, req: BridgeRequest): Promise<unknown> {
  const table = req.module === "test" ? TEST : SYSTEM;
  const f = Object.hasOwn(table, req.function) ? table[req.function] : undefined;
  if (!f) {
    throw req.module === "test"
      ? unknownTestFunction(req.function)
      : unknownSystemFunction(req.function);
  }
  return await f(d, req);
}
