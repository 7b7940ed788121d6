/**
 * @module
 * `makeTestContext()`: a real `CallContext` for calling helper functions directly in tests,
 * backed by an in-process `HelperRuntime` (same binding, handle tables and sweeping as the daemon).
 */

import type { Clock } from "../../src/sdk/clock.ts";
import { systemClock } from "../../src/sdk/clock.ts";
import { HelperRuntime } from "../../src/helper_runtime.ts";
import type { CallContext } from "../../helpers/types.ts";

/** Options of `makeTestContext`. */
export interface TestContextOptions {
  /** Directory relative paths resolve against (default: the test process's cwd). */
  readonly cwd?: string;
  readonly module?: string;
  readonly function?: string;
  readonly clock?: Clock;
  readonly handleTtlMs?: number;
  readonly maxFileBytes?: number;
}

/** A context plus the runtime's housekeeping, for tests. */
export interface TestContext {
  readonly ctx: CallContext;
  /** Log lines helpers wrote, as "level: message". */
  readonly logs: string[];
  /** A context of the same runtime for another Perl process (its handles are its own). */
  contextFor(callerPid: number): CallContext;
  sweep(): Promise<number>;
  close(): Promise<void>;
}

export function makeTestContext(opts: TestContextOptions = {}): TestContext {
  const logs: string[] = [];
  const runtime = new HelperRuntime(
    [],
    {
      handleTtlMs: opts.handleTtlMs ?? 3_600_000,
      helperTimeoutMs: 600_000,
      maxFileBytes: opts.maxFileBytes ?? 104_857_600,
      debug: 0,
    },
    opts.clock ?? systemClock,
    (level, message) => logs.push(`${level}: ${message}`),
  );
  const base = runtime.makeContext(opts.module ?? "test", opts.function ?? "call", {
    requestId: `${Math.floor(Date.now() / 1000)}_${Deno.pid}_1`,
  });
  const cwd = opts.cwd;
  const ctx: CallContext = cwd === undefined ? base : {
    ...base,
    callerCwd: () => Promise.resolve(cwd),
    resolvePath: (p: string) =>
      Promise.resolve(p.startsWith("/") ? p : `${cwd.replace(/\/+$/, "")}/${p}`),
  };
  const contextFor = (pid: number) =>
    runtime.makeContext(opts.module ?? "test", opts.function ?? "call", {
      requestId: `${Math.floor(Date.now() / 1000)}_${pid}_1`,
    });
  return { ctx, logs, contextFor, sweep: () => runtime.sweep(), close: () => runtime.close() };
}
