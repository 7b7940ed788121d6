/**
 * @module
 * `WireError`: an error that becomes the contract's failure envelope (§3.3c), carrying the Python
 * exception class name the clients see as `error_type`. One constructor per contract message
 * keeps the wire texts byte-exact and in one place.
 */

/** Python class names used as `error_type` on the wire (contract §3.4). */
export type ErrorType =
  | "ValueError"
  | "JSONDecodeError"
  | "UnicodeDecodeError"
  | "AttributeError"
  | "TypeError"
  | "RuntimeError"
  | "ModuleNotFoundError"
  | "NotImplementedError"
  | "PermissionError"
  | "TimeoutError"
  | "BusyError";

/** Largest error text sent to a client, in UTF-8 bytes (`recent_errors` keeps 512, src/ops/ring.ts). */
export const MAX_ERROR_BYTES = 8192;

const enc = new TextEncoder();

/**
 * `s` cut to at most `maxBytes` UTF-8 bytes (never inside a character), with a note of how
 * much was left out. Short texts come back unchanged.
 *
 * @example
 * ```ts
 * boundText("x".repeat(100_000), 1024).length < 1100; // true
 * ```
 */
export function boundText(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s;
  if (s.length <= maxBytes) {
    const whole = enc.encodeInto(s, new Uint8Array(maxBytes));
    if (whole.read === s.length) return s;
  }
  const note = ` … [${s.length} characters, cut to ${maxBytes} bytes]`;
  const buf = new Uint8Array(Math.max(0, maxBytes - enc.encode(note).length));
  const { written } = enc.encodeInto(s, buf);
  return new TextDecoder().decode(buf.subarray(0, written)) + note;
}

/**
 * What went wrong, for code that acts on a failure (security events, counters): code decides by
 * `kind`, never by the message text, which is the contract's and may change with its wording.
 */
export type WireErrorKind =
  /** The request reached `CPAN_BRIDGE_MAX_REQUEST_SIZE`. */
  | "too_large"
  /** Zero bytes, then EOF. */
  | "empty"
  /** `CPAN_BRIDGE_TIMEOUT` without a byte while reading the request. */
  | "timeout"
  /** The whole request did not arrive within `CPAN_BRIDGE_REQUEST_DEADLINE`. */
  | "timeout_no_request"
  /** The client did not read its reply within `CPAN_BRIDGE_WRITE_TIMEOUT`. */
  | "write_timeout"
  /** The reply exceeded `CPAN_BRIDGE_MAX_REPLY_SIZE`. */
  | "reply_too_large"
  | "bad_utf8"
  | "bad_json"
  | "not_an_object"
  | "validation"
  | "unknown_function"
  | "module_not_available"
  | "function_not_found"
  | "not_implemented"
  | "helper_failed"
  /** A helper call outlived `CPAN_BRIDGE_HELPER_TIMEOUT`. */
  | "helper_timeout"
  | "too_many_connections"
  | "server_busy"
  | "shutdown_refused"
  /** Anything without a kind of its own (e.g. an error re-created from a worker message). */
  | "other";

/** Options of a `WireError`: the standard ones plus its kind. */
export interface WireErrorOptions extends ErrorOptions {
  readonly kind?: WireErrorKind;
}

/** An error whose message and type go to the client as they are (bounded in bytes). */
export class WireError extends Error {
  override name = "WireError";
  readonly errorType: ErrorType;
  readonly kind: WireErrorKind;

  constructor(message: string, errorType: ErrorType, options?: WireErrorOptions) {
    super(boundText(message, MAX_ERROR_BYTES), options);
    this.errorType = errorType;
    this.kind = options?.kind ?? "other";
  }
}

/** True when `err` is a `WireError` of this kind. */
export function isWireError(err: unknown, kind: WireErrorKind): err is WireError {
  return err instanceof WireError && err.kind === kind;
}

export const requestTooLarge = (n: number, cap: number): WireError =>
  new WireError(`Request too large: ${n} bytes (max: ${cap})`, "ValueError", { kind: "too_large" });

export const emptyRequest = (): WireError =>
  new WireError("Empty request received", "ValueError", { kind: "empty" });

export const readTimeout = (): WireError =>
  new WireError("Request timeout - data transmission too slow", "ValueError", { kind: "timeout" });

export const validationFailed = (errors: readonly string[]): WireError =>
  new WireError(`Request validation failed: ${errors.join("; ")}`, "ValueError", {
    kind: "validation",
  });

export const notAnObject = (pyType: string): WireError =>
  new WireError(`'${pyType}' object has no attribute 'get'`, "AttributeError", {
    kind: "not_an_object",
  });

export const unknownTestFunction = (f: string): WireError =>
  new WireError(`Unknown test function: ${f}`, "ValueError", { kind: "unknown_function" });

export const unknownSystemFunction = (f: string): WireError =>
  new WireError(`Unknown system function: ${f}`, "ValueError", { kind: "unknown_function" });

export const moduleNotAvailable = (m: string, available: readonly string[]): WireError =>
  new WireError(
    `Module '${m}' not available. Available modules: [${
      available.map((a) => `'${a}'`).join(", ")
    }]`,
    "ModuleNotFoundError",
    { kind: "module_not_available" },
  );

export const functionNotFound = (m: string, f: string, available: readonly string[]): WireError =>
  new WireError(
    `Function '${f}' not found in module '${m}'. Available functions: [${
      available.map((a) => `'${a}'`).join(", ")
    }]`,
    "AttributeError",
    { kind: "function_not_found" },
  );

/** A whitelisted function whose helper is not part of this build yet. */
export const notImplemented = (m: string, f: string): WireError =>
  new WireError(
    `Function '${m}.${f}' is not implemented in this version of cpan-bridge`,
    "NotImplementedError",
    { kind: "not_implemented" },
  );

/** Anything a helper threw: contract §3.4 "Error in <m>.<f>: <text>". */
export const helperFailed = (m: string, f: string, text: string, cause?: unknown): WireError =>
  new WireError(`Error in ${m}.${f}: ${text}`, "RuntimeError", { cause, kind: "helper_failed" });

export const helperTimedOut = (m: string, f: string, seconds: number): WireError =>
  new WireError(
    `Error in ${m}.${f}: timed out after ${seconds} s (CPAN_BRIDGE_HELPER_TIMEOUT); the call was abandoned`,
    "TimeoutError",
    { kind: "helper_timeout" },
  );

export const tooManyConnections = (max: number): WireError =>
  new WireError(
    `Too many connections: ${max} already open (CPAN_BRIDGE_MAX_CONNECTIONS); retry shortly`,
    "BusyError",
    { kind: "too_many_connections" },
  );

export const serverBusy = (why: string): WireError =>
  new WireError(`Server busy: ${why}; retry shortly`, "BusyError", { kind: "server_busy" });

export const shutdownRefused = (why: string): WireError =>
  new WireError(`Shutdown not allowed: ${why}`, "PermissionError", { kind: "shutdown_refused" });

/** A start-up failure an operator must act on; the message says how. */
export class StartupError extends Error {
  override name = "StartupError";
}
