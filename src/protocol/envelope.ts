/**
 * @module
 * Every reply envelope, in one place (contract §3.3 for the daemon, §2.8 for process mode): the
 * built-in success `{success, result}`, the helper success around a helper's result bytes, the
 * failure `{success, error, error_type, daemon_info}`, and process mode's own two. Dispatch, the
 * accept loop's refusals and process mode build their replies here; nothing else writes an
 * envelope's keys. Key order is the Python daemon's (raw-text diffs stay quiet).
 */

import { WireError } from "../errors.ts";
import { resultJson } from "../host/types.ts";
import { platformName, PROTOCOL_VERSION, runtimeDescription } from "../version.ts";
import { asciiEscapeJson, encodeReply } from "../wire/encoding.ts";

/** A reply: JSON text, or byte parts written in order (a helper result stays bytes end to end). */
export type Reply = string | Uint8Array[];

const utf8 = new TextEncoder();

/** `{"success":true,"result":` : the start of every daemon success envelope. */
const SUCCESS_HEAD = '{"success":true,"result":';
const SUCCESS_HEAD_BYTES = utf8.encode(SUCCESS_HEAD);

/**
 * Helper replies up to this size are joined into one buffer: one write (one syscall, one
 * async op) instead of three. Larger results stay in their own buffer (no copy of megabytes).
 */
const JOIN_MAX = 64 * 1024;

/** A built-in's success envelope (contract §3.3b): `{success:true, result}`, nothing else. */
export function builtinSuccess(result: unknown): string {
  return builtinSuccessJson(resultJson(result));
}

/** A built-in's success envelope around its result's JSON text (`test.ping`'s is pre-built). */
export function builtinSuccessJson(resultText: string): string {
  return `${SUCCESS_HEAD}${resultText}}`;
}

/**
 * A helper call's success envelope (contract §3.3a) around the result's JSON bytes, as parts
 * written in order: `{success, result, module, function, execution_info}`. `nowMs`: the
 * daemon clock, for `execution_info.timestamp` (epoch seconds as text).
 */
export function helperSuccess(
  result: Uint8Array,
  module: string,
  fn: string,
  nowMs: number,
): Uint8Array[] {
  const info = JSON.stringify({
    daemon_version: PROTOCOL_VERSION,
    python_version: runtimeDescription(),
    timestamp: String(nowMs / 1000),
  });
  const tail = `,"module":${JSON.stringify(module)},"function":${
    JSON.stringify(fn)
  },"execution_info":${info}}`;
  if (result.length > JOIN_MAX) return [SUCCESS_HEAD_BYTES, result, utf8.encode(tail)];
  // At most 3 UTF-8 bytes per UTF-16 unit; the tail is ASCII in practice (validated names).
  const head = SUCCESS_HEAD_BYTES.length;
  const out = new Uint8Array(head + result.length + tail.length * 3);
  out.set(SUCCESS_HEAD_BYTES, 0);
  out.set(result, head);
  const { written } = utf8.encodeInto(tail, out.subarray(head + result.length));
  return [out.subarray(0, head + result.length + written)];
}

/**
 * The failure envelope (contract §3.3c): a `WireError`'s message and type as they are, anything
 * else as `Internal error: …` / RuntimeError; `traceback` at `CPAN_BRIDGE_DEBUG` ≥ 1.
 */
export function failureEnvelope(err: unknown, debug: number): string {
  const w = err instanceof WireError ? err : undefined;
  const env: Record<string, unknown> = {
    success: false,
    error: w ? w.message : `Internal error: ${err instanceof Error ? err.message : String(err)}`,
    error_type: w ? w.errorType : "RuntimeError",
    daemon_info: { version: PROTOCOL_VERSION, python_version: runtimeDescription() },
  };
  if (debug >= 1 && err instanceof Error && err.stack) env.traceback = err.stack;
  return JSON.stringify(env);
}

/** A reply as the byte parts to write, in the configured wire encoding (contract §2.6). */
export function replyParts(reply: Reply, mode: "repair" | "exact"): Uint8Array[] {
  return typeof reply === "string" ? [encodeReply(reply, mode)] : reply;
}

/**
 * Process mode's success line (contract §2.8, `cpan_bridge.py`): `{success, result, module,
 * function, execution_info{python_version, timestamp}}`, ASCII-only JSON and a newline.
 */
export function processSuccess(result: unknown, module: unknown, fn: unknown, now: Date): string {
  return asciiEscapeJson(JSON.stringify({
    success: true,
    result,
    module,
    function: fn,
    execution_info: { python_version: runtimeDescription(), timestamp: now.toISOString() },
  })) + "\n";
}

/**
 * Process mode's failure line (contract §2.8): `{success, error, error_type, module, function,
 * python_info{version, platform}}`, ASCII-only JSON and a newline (`module`/`function` are left
 * out while unknown, as JSON.stringify drops undefined).
 */
export function processFailure(
  message: string,
  errorType: string,
  module: unknown,
  fn: unknown,
): string {
  return asciiEscapeJson(JSON.stringify({
    success: false,
    error: message,
    error_type: errorType,
    module,
    function: fn,
    python_info: { version: runtimeDescription(), platform: platformName() },
  })) + "\n";
}
