/**
 * @module
 * Process mode (contract §2.8): one JSON request on stdin, one JSON line on stdout, exit 0 on
 * success and 1 on error. This is what `CPANBridge.pm` runs as `<PYTHON_EXECUTABLE>
 * "<…/cpan_bridge.py>"` when the daemon is off or unreachable. Stateless helpers work; handles
 * die with the process, as they did with `cpan_bridge.py`.
 */

import { systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { WireError } from "./errors.ts";
import { InProcessHost } from "./host/in_process.ts";
import { pyTypeName } from "./protocol/validate.ts";
import { BASE_WHITELIST } from "./protocol/whitelist.ts";
import { asciiEscapeJson, decodeUtf8 } from "./wire/encoding.ts";
import { parseRequestJson } from "./wire/json_errors.ts";
import { platformName, runtimeDescription } from "./version.ts";

const NAME = /^[a-zA-Z][a-zA-Z0-9_]*$/;

/** Result of one process-mode run. */
export interface ProcessOutcome {
  readonly stdout: string;
  readonly code: 0 | 1;
}

/** Runs one request (bytes of stdin) and returns stdout text and exit code. */
export async function runProcessMode(
  input: Uint8Array,
  config: Config,
  maxChars = 10_000_000,
): Promise<ProcessOutcome> {
  const names: { module?: unknown; fn?: unknown } = {};
  const fail = (message: string, errorType: string): ProcessOutcome => ({
    stdout: asciiEscapeJson(JSON.stringify({
      success: false,
      error: message,
      error_type: errorType,
      module: names.module,
      function: names.fn,
      python_info: { version: runtimeDescription(), platform: platformName() },
    })) + "\n",
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
  const ok = (result: unknown): ProcessOutcome => ({
    stdout: asciiEscapeJson(JSON.stringify({
      success: true,
      result,
      module,
      function: fn,
      execution_info: { python_version: runtimeDescription(), timestamp: new Date().toISOString() },
    })) + "\n",
    code: 0,
  });
  if (module === "test") {
    if (fn === "ping") {
      return ok({
        message: "pong",
        version: "1.0.1",
        python_version: runtimeDescription(),
        platform: platformName(),
        working_directory: Deno.cwd(),
        input: req.params ?? {},
        ...(config.opsShim ? { success: true } : {}),
      });
    }
    if (fn === "echo") return ok(req.params ?? {});
    if (fn === "check_module") {
      const p = req.params as Record<string, unknown> | undefined;
      const name = p && typeof p === "object" ? (p.module ?? p.module_name) : p;
      if (!name) return fail("Module name required for check_module", "ValueError");
      return ok(
        typeof name === "string" && name in BASE_WHITELIST && name !== "test" && name !== "system",
      );
    }
    if (fn === "error") return fail("Test error for error handling validation", "Exception");
    return fail(`Unknown test function: ${fn}`, "ValueError");
  }
  if (module === "system") {
    return fail(`system.${fn} needs the daemon: process mode has no daemon state`, "ValueError");
  }
  const { MANIFEST } = await import("../helpers/manifest.ts");
  const host = new InProcessHost(
    MANIFEST,
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
      AbortSignal.timeout(config.helperTimeout * 1000),
    );
    return ok(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (err) {
    return fail(
      err instanceof Error ? err.message : String(err),
      err instanceof WireError ? err.errorType : "RuntimeError",
    );
  } finally {
    await host.close();
  }
}
