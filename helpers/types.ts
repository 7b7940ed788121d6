/**
 * @module
 * What a helper module is: a wire name and a table of functions, each declaring its parameter
 * names. The router binds object params by name and array params by position (contract §3.2),
 * so implementations receive one plain object. Helpers keep state only in `ctx.handles(…)`
 * tables, which belong to the daemon and are swept by its janitor.
 */

import type { Clock } from "../src/sdk/clock.ts";
import type { HandleOptions, HandleTable } from "../src/sdk/handles.ts";
import type { PathGuard } from "../src/sdk/path_guard.ts";

/** Handle tables and their ownership error (a handle belongs to the client that opened it). */
export { HandleOwnerError } from "../src/sdk/handles.ts";
export type { HandleOptions, HandleTable } from "../src/sdk/handles.ts";
/** Time, injectable in tests. */
export { type Clock, systemClock } from "../src/sdk/clock.ts";

/** The Perl string rule (docs/helpers/README.md): every helper converts data through these. */
export {
  bytesToPerl,
  isByteString,
  perlBytes,
  perlPath,
  perlText,
} from "../src/sdk/perl_strings.ts";
/** Perl's text of numbers (`"$n"`, `$s + 0`). */
export { perlNumberText, perlNumify, perlNv } from "../src/sdk/perl_numbers.ts";
/** Perl truth and strings of parameters. */
export { str, truthy } from "../src/sdk/perl_values.ts";
/** Which paths helpers may use (`ctx.resolvePath` enforces it). */
export { checkPathSync, PathRefusedError } from "../src/sdk/path_guard.ts";
export type { PathGuard } from "../src/sdk/path_guard.ts";
/** Byte utilities. */
export { concatBytes } from "../src/sdk/bytes.ts";
/** Whole-file reads of caller-named files, bounded by `settings.maxFileBytes`. */
export { FileReadError, readRegularFile } from "../src/sdk/files.ts";
/** An OS error as Perl's `$!` prints it. */
export { perlErrno } from "../src/sdk/os_errors.ts";
/** A client process's start time from /proc (tells it from a later one with the same PID). */
export { processStartTime } from "../src/sdk/processes.ts";

/** Where a helper writes its diagnostics: the daemon log, with the helper's name. */
export interface HelperLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Settings a helper may read (never `Deno.env`). */
export interface HelperSettings {
  /** Default idle TTL for handle tables, ms. */
  readonly handleTtlMs: number;
  /** The daemon's per-call limit, ms; long network operations should time out before it. */
  readonly helperTimeoutMs: number;
  /** CPAN_BRIDGE_MAX_FILE_BYTES: the largest file a helper reads whole (`readRegularFile`). */
  readonly maxFileBytes: number;
  /** CPAN_BRIDGE_DEBUG. */
  readonly debug: number;
  /** CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT: open handles per table one client process may hold. */
  readonly maxHandlesPerClient?: number;
  /**
   * Files helpers may not touch (the daemon's own) and the allowed directories
   * (CPAN_BRIDGE_ALLOWED_PATHS), enforced by `ctx.resolvePath`; absent in process mode, which
   * runs as the caller.
   */
  readonly paths?: PathGuard;
}

/** What a helper function gets besides its params. */
export interface CallContext {
  readonly module: string;
  readonly function: string;
  readonly requestId: string;
  /** PID of the Perl caller, from `request_id` (`<epoch>_<pid>_<rand>`), when it has one. */
  readonly callerPid: number | undefined;
  /** Aborted when the call times out or the daemon shuts down. */
  readonly signal: AbortSignal;
  /** The daemon's time source: read time through it (never `Date.now()`), so tests can fake it. */
  readonly clock: Clock;
  readonly log: HelperLogger;
  readonly settings: HelperSettings;
  /**
   * The caller's working directory (`/proc/<pid>/cwd`), else the daemon's (helpers contract
   * §2.4). Relative file names given by Perl code must be resolved against it.
   */
  callerCwd(): Promise<string>;
  /**
   * Resolves `path` against the caller's working directory (absolute paths as they are). Every
   * file a caller names goes through here, so it also enforces `settings.paths`.
   *
   * @throws {PathRefusedError} for the daemon's own files, or outside CPAN_BRIDGE_ALLOWED_PATHS
   */
  resolvePath(path: string): Promise<string>;
  /** A variable of the caller's environment (`/proc/<pid>/environ`), else the daemon's. */
  callerEnv(name: string): Promise<string | undefined>;
  /** The daemon's table of this helper's handles named `name`, created on first use. */
  handles<T>(
    name: string,
    opts: Omit<HandleOptions<T>, "idleTtlMs" | "perOwnerLimit"> & {
      idleTtlMs?: number;
      /**
       * `false` for a table whose handles live and die with another handle (a connection's
       * statements, a document's nodes): it is not held to CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT,
       * which bounds the handle that owns them, and its handles close with that handle rather
       * than when the client process exits.
       */
      perClient?: false;
    },
  ): HandleTable<T>;
}

/** Bound arguments: parameter name → value (absent names are missing). */
export type Args = Record<string, unknown>;

/** One wire function. */
export interface HelperFunction {
  /** Parameter names in positional order. */
  readonly params: readonly string[];
  /** Accepts keys beyond `params` (Python `**kwargs`), passed through in `args`. */
  readonly variadic: boolean;
  /** Parameters that must be present; others are optional. */
  readonly required: readonly string[];
  readonly run: (args: Args, ctx: CallContext) => unknown;
}

/** Options of `fn()`. */
export interface FnOptions {
  /** Accept and pass through keys beyond the declared params. */
  readonly variadic?: boolean;
  /** Parameters that must be present (default: none; helpers return their own errors). */
  readonly required?: readonly string[];
}

/** Declares a wire function: `fn(["host", "port"], (args, ctx) => …)`. */
export function fn(
  params: readonly string[],
  run: (args: Args, ctx: CallContext) => unknown,
  options: FnOptions = {},
): HelperFunction {
  return {
    params,
    run,
    variadic: options.variadic ?? false,
    required: options.required ?? [],
  };
}

/** A helper module: one per wire name. */
export interface HelperDefinition {
  /** Wire module name, e.g. "ftp_helper". */
  readonly name: string;
  /** Other wire names served by the same functions, e.g. "xml" for "xml_helper". */
  readonly aliases?: readonly string[];
  /** Perl wrapper and CPAN module replaced, for docs and `system.info`. */
  readonly replaces: string;
  readonly functions: Readonly<Record<string, HelperFunction>>;
  /** Called by the janitor every cleanup interval (contract §11.3 `cleanup_stale_resources`). */
  readonly cleanupStale?: (ctx: CallContext) => Promise<void> | void;
  /** Called once at daemon shutdown, after handle tables are closed. */
  readonly shutdown?: (ctx: CallContext) => Promise<void> | void;
}

/** Identity function that type-checks a helper definition. */
export function defineHelper(def: HelperDefinition): HelperDefinition {
  return def;
}

/** The wrapped result convention (helpers contract §1): `{success:true, result:{…}}`. */
export function wrapped(result: unknown): { success: true; result: unknown } {
  return { success: true, result };
}

/** An expected failure, returned (never thrown) so the client does not retry (contract §12 C2). */
export function failure(
  error: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { success: false, error, ...extra };
}

/** A helper known by name before its code is loaded (the entries of helpers/registry.ts). */
export interface LazyHelper {
  readonly name: string;
  readonly aliases: readonly string[];
  /** The names of its wire functions, in the order of its definition's `functions`. */
  readonly functions: readonly string[];
  /** Imports the helper's module. */
  readonly load: () => Promise<HelperDefinition>;
}
