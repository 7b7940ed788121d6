/**
 * @module
 * Process mode (contract §2.8): one JSON request on stdin, one JSON line on stdout, exit 0 on
 * success and 1 on error. This is what `CPANBridge.pm` runs as `<PYTHON_EXECUTABLE>
 * "<…/cpan_bridge.py>"` when the daemon is off or unreachable. Stateless helpers work; handles
 * die with the process, as they did with `cpan_bridge.py`.
 */

import { systemClock } from "./sdk/clock.ts";
import type { Config } from "./config.ts";
import { WireError } from "./errors.ts";
import { InProcessHost } from "./host/in_process.ts";
import { processFailure, processSuccess } from "./protocol/envelope.ts";
import { pyTypeName } from "./protocol/validate.ts";
import { helperEntry } from "../helpers/registry.ts";
import { decodeUtf8 } from "./wire/encoding.ts";
import { parseRequestJson } from "./wire/json_errors.ts";
import { platformName, PROCESS_MODE_VERSION, runtimeDescription } from "./version.ts";

const NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;

/** Result of one process-mode run. */
export interface ProcessOutcome {
  readonly stdout: string;
  readonly code: 0 | 1;
}

/** What a process-mode built-in answers: its result, or a failure with its Python class name. */
type BuiltinOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string; readonly errorType: string };

type ProcessBuiltin = (req: Record<string, unknown>, config: Config) => BuiltinOutcome;

const ok = (result: unknown): BuiltinOutcome => ({ ok: true, result });
const failure = (error: string, errorType: string): BuiltinOutcome => ({
  ok: false,
  error,
  errorType,
});

/**
 * `cpan_bridge.py`'s `test.*` (contract §2.8), a table as the daemon's built-ins are
 * (builtins/mod.ts). The answers differ from the daemon's on purpose, as the Python script's did:
 * `test.ping` reports `version` (not `daemon_version`), the working directory and no stats;
 * `test.check_module` needs a name and answers from the registry (no helper is loaded to ask);
 * `test.error` exists here only.
 */
const TEST: Record<string, ProcessBuiltin> = {
  ping: (req, config) =>
    ok({
      message: "pong",
      version: PROCESS_MODE_VERSION,
      python_version: runtimeDescription(),
      platform: platformName(),
      working_directory: Deno.cwd(),
      input: req.params ?? {},
      ...(config.opsShim ? { success: true } : {}),
    }),
  echo: (req) => ok(req.params ?? {}),
  check_module: (req) => {
    const p = req.params as Record<string, unknown> | undefined;
    const name = p && typeof p === "object" ? (p.module ?? p.module_name) : p;
    if (!name) return failure("Module name required for check_module", "ValueError");
    return ok(
      typeof name === "string" && helperEntry(name) !== undefined,
    );
  },
  error: () => failure("Test error for error handling validation", "Exception"),
};

/** Runs one request (bytes of stdin) and returns stdout text and exit code. */
export async function runProcessMode(
  input: Uint8Array,
  config: Config,
  maxChars = 10_000_000,
): Promise<ProcessOutcome> {
  const names: { module?: unknown; fn?: unknown } = {};
  const fail = (message: string, errorType: string): ProcessOutcome => ({
    stdout: processFailure(message, errorType, names.module, names.fn),
    code: 1,
  });
  let req: Record<string, unknown>;
  try {
    const text = decodeUtf8(input);
    if (text.trim() === "") {
      return fail("Failed to read request: Empty input received", "ValueError");
    }
    if (text.length > maxChars) {
      return fail(
        `Failed to read request: Request too large: ${text.length} bytes (max: ${maxChars})`,
        "ValueError",
      );
    }
    let value: unknown;
    try {
      value = parseRequestJson(text);
    } catch (err) {
      return fail(`Invalid JSON in request: ${(err as Error).message}`, "JSONDecodeError");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return fail(`'${pyTypeName(value)}' object has no attribute 'get'`, "AttributeError");
    }
    req = value as Record<string, unknown>;
  } catch (err) {
    return fail(
      err instanceof Error ? err.message : String(err),
      err instanceof WireError ? err.errorType : "ValueError",
    );
  }
  const module = names.module = req.module;
  const fn = names.fn = req.function;
  if (typeof module !== "string" || typeof fn !== "string" || !module || !fn) {
    return fail("Missing required fields: module and function", "ValueError");
  }
  if (!NAME.test(module)) return fail(`Invalid module name format: ${module}`, "ValueError");
  if (!NAME.test(fn)) return fail(`Invalid function name format: ${fn}`, "ValueError");
  const success = (result: unknown): ProcessOutcome => ({
    stdout: processSuccess(result, module, fn, new Date()),
    code: 0,
  });
  if (module === "test") {
    const builtin = Object.hasOwn(TEST, fn) ? TEST[fn] : undefined;
    if (!builtin) return fail(`Unknown test function: ${fn}`, "ValueError");
    const r = builtin(req, config);
    return r.ok ? success(r.result) : fail(r.error, r.errorType);
  }
  if (module === "system") {
    return fail(`system.${fn} needs the daemon: process mode has no daemon state`, "ValueError");
  }
  const { REGISTRY } = await import("../helpers/registry.ts");
  const host = new InProcessHost(
    REGISTRY,
    {
      handleTtlMs: 0,
      helperTimeoutMs: config.helperTimeout * 1000,
      maxFileBytes: config.maxFileBytes,
      debug: config.debug,
    },
    systemClock,
    () => {},
  );
  try {
    const bytes = await host.call(
      {
        module,
        function: fn,
        params: req.params,
        hasParams: "params" in req,
        requestId: typeof req.request_id === "string" ? req.request_id : "process",
      },
      // The host owns the helper timeout (callWithin): the caller's signal is only for a stop.
      new AbortController().signal,
    );
    return success(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (err) {
    return fail(
      err instanceof Error ? err.message : String(err),
      err instanceof WireError ? err.errorType : "RuntimeError",
    );
  } finally {
    await host.close();
  }
}
