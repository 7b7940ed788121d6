/**
 * @module
 * `dispatch`: request bytes in, reply JSON text out (contract §2.2 flow): decode → parse →
 * validate → built-in or helper → envelope. Every outcome is counted, timed and, on failure,
 * logged; nothing here touches a socket, so process mode and tests call it directly.
 */

import type { DaemonContext } from "../daemon_context.ts";
import { whitelistOf } from "../daemon_context.ts";
import { isWireError, notAnObject } from "../errors.ts";
import { redact } from "../log/format.ts";
import type { Peer } from "../ops/security.ts";
import { decodeUtf8, mayHoldNonAscii, repairDoubleEncoding } from "../wire/encoding.ts";
import { parseRequestJson } from "../wire/json_errors.ts";
import { pingResultJson, runBuiltinJson } from "../builtins/mod.ts";
import { type BridgeRequest, pyTypeName, validateRequest } from "./validate.ts";
import { WHITELIST } from "./whitelist.ts";
import { builtinSuccessJson, failureEnvelope, helperSuccess, type Reply } from "./envelope.ts";
import type { CallerScope } from "../ops/throttle.ts";

const utf8 = new TextEncoder();

const whitelistCache = new WeakMap<object, Map<string, ReadonlySet<string>>>();

function whitelist(d: DaemonContext): Map<string, ReadonlySet<string>> {
  const key = d.host.functions();
  let wl = whitelistCache.get(key);
  if (!wl) whitelistCache.set(key, wl = whitelistOf(d));
  return wl;
}

/** The failure envelope (contract §3.3c). */
export function errorEnvelope(d: DaemonContext, err: unknown): string {
  return failureEnvelope(err, d.config.debug);
}

/** Decodes and parses request bytes into the request object (not yet validated). */
function parse(d: DaemonContext, bytes: Uint8Array): Record<string, unknown> {
  const text = decodeUtf8(bytes);
  let value = parseRequestJson(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw notAnObject(pyTypeName(value));
  }
  if (d.config.encoding === "repair" && mayHoldNonAscii(bytes)) value = repairDoubleEncoding(value);
  return value as Record<string, unknown>;
}

/** The registry's names are known at once; a helper outside it (tests) once the host is up. */
function mustWaitForHelpers(d: DaemonContext, value: Record<string, unknown>): boolean {
  const module = value.module;
  return typeof module === "string" && !WHITELIST.has(module) && d.host.state() === "loading";
}

/** Validates a parsed request, counting failures and the security events it records. */
function validate(d: DaemonContext, value: Record<string, unknown>, peer: Peer): BridgeRequest {
  const before = d.security.total;
  try {
    return validateRequest(value, {
      config: d.config,
      whitelist: whitelist(d),
      security: d.security,
      peer,
    });
  } catch (err) {
    d.stats.validationFailures++;
    d.stats.requestsRejected++;
    throw err;
  } finally {
    d.stats.securityEvents += d.security.total - before;
  }
}

export type { Reply };

/** Helper calls end by their own timeout (WorkerHost) or at daemon shutdown (host.close()). */
const NEVER = new AbortController().signal;

/** A helper call: through the throttle to the helper host, wrapped in its envelope. */
async function helperCall(
  d: DaemonContext,
  req: BridgeRequest,
  scope?: CallerScope,
): Promise<Reply> {
  const slot = await d.throttle.acquire(undefined, scope?.client ?? "", scope?.onWait).catch(
    (err) => {
      d.stats.throttleRefused++;
      d.security.record("throttled", "warning", { client: "" }, {
        request_id: req.requestId,
        module: req.module,
        function: req.function,
      }, { reason: err.message });
      d.stats.securityEvents++;
      throw err;
    },
  );
  if (slot.waited) d.stats.throttled++;
  try {
    const bytes = await d.host.call(
      {
        module: req.module,
        function: req.function,
        params: req.params,
        hasParams: req.hasParams,
        requestId: req.requestId,
      },
      NEVER,
    );
    return helperSuccess(bytes, req.module, req.function, d.clock.now());
  } catch (err) {
    if (isWireError(err, "helper_timeout")) d.stats.helperTimeouts++;
    throw err;
  } finally {
    slot.release();
  }
}

/**
 * Handles one request; always returns a reply (JSON text), never throws. `scope`: who is calling,
 * for the throttle's fairness (server/connection.ts gives it; without one, calls share one key).
 */
export async function dispatch(
  d: DaemonContext,
  bytes: Uint8Array,
  peer: Peer,
  scope?: CallerScope,
): Promise<Reply> {
  const t0 = performance.now();
  let req: BridgeRequest | undefined;
  try {
    // Parsing and validation are synchronous: no promise per stage on the way to the built-in.
    const value = parse(d, bytes);
    if (mustWaitForHelpers(d, value)) await d.host.ready.catch(() => {});
    req = validate(d, value, peer);
    // Debug lines are built only when they are written: no formatting at a disabled level.
    if (d.config.debug > 0) {
      d.logs.daemon.debug(`Received request: ${req.module}.${req.function}`);
      d.logs.daemon.debug(
        `Routing ${req.module}.${req.function} with params: ${JSON.stringify(redact(req.params))}`,
      );
    }
    // test.ping, the call every v2.00 request is preceded by, from its pre-serialised fields,
    // already ASCII in repair mode: its bytes at once, without the reply-wide escape scan.
    const reply: Reply = req.module === "test" && req.function === "ping"
      ? [utf8.encode(builtinSuccessJson(pingResultJson(d, req, d.config.encoding === "repair")))]
      : req.module === "test" || req.module === "system"
      ? builtinSuccessJson(await runBuiltinJson(d, req))
      : await helperCall(d, req, scope);
    d.stats.requestsProcessed++;
    if (req.livenessPing) d.perf.recordLivenessPing();
    else {d.perf.record(
        d.clock.now(),
        `${req.module}.${req.function}`,
        (performance.now() - t0) / 1000,
        true,
      );}
    return reply;
  } catch (err) {
    return failed(d, err, req ? `${req.module}.${req.function}` : "request.invalid", t0);
  }
}

/** Counts, records and logs a failed request; returns its envelope. */
export function failed(d: DaemonContext, err: unknown, mf: string, t0: number): string {
  d.stats.requestsFailed++;
  const message = err instanceof Error ? err.message : String(err);
  d.perf.record(d.clock.now(), mf, (performance.now() - t0) / 1000, false, message);
  d.logs.daemon.error(`Error handling client request: ${message}`);
  if (d.config.debug >= 1 && err instanceof Error && err.stack) {
    d.logs.daemon.error(`Traceback: ${err.stack}`);
  }
  return errorEnvelope(d, err);
}
