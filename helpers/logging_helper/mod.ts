/**
 * @module
 * `logging_helper`: serves LogHelper.pm, which replaces Log::Log4perl 1.57 as used through
 * CPS::WlaLog (helpers contract §3.8, §2.5). Wrapped results; `logger_id` handles (UUID4).
 *
 * WHERE LOG LINES GO (the decision of §3.8):
 * - A logger has appenders, as in Log4perl. `init_logger` may name them: `config` (Log4perl
 *   configuration text, or the path of a configuration file, read bounded) with
 *   Log::Log4perl::Appender::File and ::Screen appenders and Simple/Pattern layouts, or the shortcut
 *   `filename` (+ `mode`, `layout`) for one File appender. File names are relative to the Perl
 *   CALLER's cwd; files are appended to per line, `mode => "write"` truncates at init.
 * - Without either, the logger has LogHelper's "sysout" appender: CPS::WlaLog's Screen appender on
 *   the CALLER's own stdout (fd 1 of the caller's PID: a regular file through the caller's own open
 *   file description, duplicated with pidfd_getfd; caller_output.ts decides, from what that fd
 *   is, when the bytes go out, as the caller's Perl would have written them).
 * - Layouts: CPS::WlaLog's `%d{EEE yyyy/MM/dd HH:mm:ss}|%m%n`, and `%d|%p> %m%n` for the enhanced
 *   DEBUG/ERROR/FATAL/logdie lines. The wrapper sends enhanced messages already prefixed
 *   (`DEBUG: <file> line:<n>: <msg>`), so the text is used as sent.
 * - Messages are Perl strings: their bytes go out (`perlBytes`), a wide character as UTF-8; an
 *   appender with `utf8 = 1` encodes every character as UTF-8, as its :utf8 layer does.
 * Levels filter as in Log4perl (the logger's level, and appender Thresholds). Times are the
 * daemon's local time zone.
 */

import { hostname } from "node:os";
import {
  bytesToPerl,
  defineHelper,
  failure,
  FileReadError,
  fn,
  perlBytes,
  perlPath,
  readRegularFile,
  wrapped,
} from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { HandleOwnerError, perlErrno } from "../types.ts";
import type { HandleTable } from "../types.ts";
import { levelName, LEVELS, renderPattern } from "./layout.ts";
import type { LogEvent } from "./layout.ts";
import { parseProperties, resolve } from "./config.ts";
import type { AppenderSpec } from "./config.ts";
import { CallerOutputs } from "./caller_output.ts";

/** CPS::WlaLog's line layout. */
export const SYSOUT_PATTERN = "%d{EEE yyyy/MM/dd HH:mm:ss}|%m%n";
/** CPS::WlaLog's layout for enhanced DEBUG/ERROR/FATAL lines (Log4perl's default %d). */
export const ENHANCED_PATTERN = "%d|%p> %m%n";

const utf8Encoder = new TextEncoder();

/** Loggers are tiny; keep them a day unused (the wrapper never frees them). */
const LOGGER_TTL_MS = 24 * 3600 * 1000;

type Appender = AppenderSpec & { readonly path?: string };

interface Logger {
  readonly category: string;
  level: string;
  readonly appenders: Appender[];
  /** "sysout" (caller's stdout) or the configured appender names. */
  readonly appenderName: string;
  readonly pid: number | undefined;
  readonly started: number;
}

/**
 * Files already truncated for a caller (Log4perl truncates `mode => "write"` files once, at init,
 * not for every logger that shares the appender). Key: "<caller pid>:<path>".
 */
function truncated(ctx: CallContext): Set<string> {
  const t = ctx.handles<Set<string>>("truncated", { prefix: "logtrunc", idleTtlMs: LOGGER_TTL_MS });
  const id = `files:${ctx.callerPid ?? 0}`; // handles are their client's own
  return t.get(id) ?? (t.add(new Set(), id), t.get(id)!);
}

/** The caller's logger, or undefined (unknown, or opened by another process: not ours to use). */
function loggerOf(ctx: CallContext, id: unknown): Logger | undefined {
  try {
    return loggers(ctx).get(id);
  } catch (e) {
    if (e instanceof HandleOwnerError) return undefined;
    throw e;
  }
}

function loggers(ctx: CallContext): HandleTable<Logger> {
  return ctx.handles<Logger>("loggers", {
    prefix: "logger",
    idleTtlMs: LOGGER_TTL_MS,
    newId: () => crypto.randomUUID(),
  });
}

/** Configuration text (Perl ordinals): inline, or the bytes of the named file, read bounded. */
async function loadConfig(config: string, ctx: CallContext): Promise<string | { error: string }> {
  if (/[=\n]/.test(config)) return config;
  const name = perlPath(config);
  if (name === undefined) {
    return { error: `Cannot read Log4perl configuration ${config}: the name is not UTF-8 bytes` };
  }
  try {
    return bytesToPerl(
      await readRegularFile(await ctx.resolvePath(name), ctx.settings.maxFileBytes),
    );
  } catch (e) {
    // Log4perl's own text for a missing file; the reader's clear text for the refusals it adds.
    if (e instanceof FileReadError && e.kind === "not_found") {
      return { error: `Cannot open ${config} (No such file or directory)` };
    }
    if (e instanceof FileReadError) {
      return { error: `Cannot read Log4perl configuration: ${e.message}` };
    }
    throw e;
  }
}

async function initLogger(args: Args, ctx: CallContext) {
  const category = args.category === undefined || args.category === null || args.category === ""
    ? "main"
    : String(args.category);
  let level = levelName(args.level ?? "INFO");
  if (!level) return failure(`Unknown log level: ${String(args.level)}`);
  let specs: AppenderSpec[] = [];
  let appenderName = "sysout";
  if (typeof args.config === "string" && args.config !== "") {
    const text = await loadConfig(args.config, ctx);
    if (typeof text !== "string") return failure(text.error);
    const r = resolve(parseProperties(text), category);
    if (typeof r === "string") return failure(r);
    if (r.level !== undefined) {
      const l = levelName(r.level);
      if (!l) return failure(`Unknown log level in configuration: ${r.level}`);
      level = l;
    }
    specs = r.appenders;
    appenderName = specs.map((s) => s.name).join(",") || "none";
  } else if (typeof args.filename === "string" && args.filename !== "") {
    const mode = String(args.mode ?? "append").toLowerCase();
    specs = [{
      kind: "file",
      name: "file",
      filename: args.filename,
      mode: mode === "write" || mode === "clobber" ? "write" : "append",
      pattern: typeof args.layout === "string" ? args.layout : "%d %p %m%n",
    }];
    appenderName = "file";
  } else {
    specs = [{
      kind: "screen",
      name: "sysout",
      stderr: false,
      pattern: typeof args.layout === "string" ? args.layout : SYSOUT_PATTERN,
    }];
  }
  const appenders: Appender[] = [];
  for (const s of specs) {
    if (s.kind !== "file") {
      appenders.push(s);
      continue;
    }
    const name = perlPath(s.filename);
    if (name === undefined) {
      return failure(`Cannot open log file ${s.filename}: the name is not UTF-8 bytes`);
    }
    const path = await ctx.resolvePath(name);
    try {
      // Log4perl opens (and with mode "write" truncates) the file when the appender is made.
      const key = `${ctx.callerPid ?? 0}:${path}`;
      const seen = truncated(ctx);
      const clobber = s.mode === "write" && !seen.has(key);
      await Deno.writeFile(path, new Uint8Array(0), { append: !clobber, create: true });
      if (clobber) seen.add(key);
    } catch (e) {
      return failure(`Can't open ${s.filename} (${perlErrno(e)})`); // Log4perl's text
    }
    appenders.push({ ...s, path });
  }
  const logger: Logger = {
    category,
    level,
    appenders,
    appenderName,
    pid: ctx.callerPid,
    started: ctx.clock.now(),
  };
  const id = loggers(ctx).add(logger);
  return wrapped({
    logger_id: id,
    category,
    level,
    appender: appenderName,
    files: appenders.flatMap((a) => (a.kind === "file" ? [a.filename] : [])),
  });
}

function setLevel(args: Args, ctx: CallContext) {
  const l = loggerOf(ctx, args.logger_id);
  if (!l) return failure(`Logger not found: ${String(args.logger_id)}`);
  const level = levelName(args.level);
  if (!level) return failure(`Unknown log level: ${String(args.level)}`);
  l.level = level;
  return wrapped({ logger_id: args.logger_id, level, numeric_level: LEVELS[level] });
}

/** The bytes an appender writes for a rendered line (Perl print, or a :utf8 layer). */
function lineBytes(text: string, utf8Layer: boolean | undefined): Uint8Array {
  return utf8Layer ? utf8Encoder.encode(text) : perlBytes(text);
}

async function log(
  level: string,
  args: Args,
  ctx: CallContext,
  extra: Record<string, unknown> = {},
) {
  const l = loggerOf(ctx, args.logger_id);
  if (!l) return failure(`Logger not found: ${String(args.logger_id)}`);
  // The wrapper sends enhanced messages already prefixed ("DEBUG: <file> line:<n>: <msg>").
  const message = args.message === undefined || args.message === null ? "" : String(args.message);
  if (LEVELS[level]! < LEVELS[l.level]!) {
    return wrapped({ logged: false, level, message, ...extra });
  }
  const enhanced = Boolean(args.enhanced) && args.enhanced !== "0" &&
    (level === "DEBUG" || level === "ERROR" || level === "FATAL");
  const event: Omit<LogEvent, "message"> = {
    // Log4perl's category names use dots: App::Db is "App.Db".
    category: l.category.replaceAll("::", "."),
    level,
    time: new Date(ctx.clock.now()),
    filename: String(args.filename ?? ""),
    line: args.line === undefined || args.line === null ? "" : String(args.line),
    package: String(args.package ?? "main"),
    pid: ctx.callerPid ?? Deno.pid,
    hostname: hostname(),
    elapsedMs: ctx.clock.now() - l.started,
  };
  const lines: string[] = [];
  const errors: string[] = [];
  for (const a of l.appenders) {
    if (a.threshold && LEVELS[level]! < (LEVELS[levelName(a.threshold) ?? "ALL"] ?? 0)) continue;
    const pattern = a.name === "sysout" && enhanced && a.pattern === SYSOUT_PATTERN
      ? ENHANCED_PATTERN
      : a.pattern;
    const text = renderPattern(pattern, { ...event, message }, a.chomp !== false);
    lines.push(text.replace(/\n$/, ""));
    const bytes = lineBytes(text, a.utf8);
    if (a.kind === "file") {
      try {
        await Deno.writeFile(a.path!, bytes, { append: true });
      } catch (e) {
        errors.push(`Cannot write to log file ${a.filename}: ${perlErrno(e)}`);
      }
    } else {
      const fd = a.stderr ? 2 : 1;
      const err = await CallerOutputs.of(ctx).write(ctx.callerPid, fd, bytes, !!a.autoflush);
      if (err) errors.push(err.error);
    }
  }
  if (errors.length) return failure(errors.join("; "), { level, message });
  return wrapped({ logged: true, level, message, formatted: lines.join("\n"), ...extra });
}

const LOG_PARAMS = ["logger_id", "message", "filename", "line", "package", "enhanced"];

function levelFn(level: string) {
  return fn(LOG_PARAMS, (args, ctx) => log(level, args, ctx), { variadic: true });
}

export const loggingHelper = defineHelper({
  name: "logging_helper",
  replaces: "LogHelper.pm (Log::Log4perl via CPS::WlaLog)",
  functions: {
    init_logger: fn(
      ["category", "level", "caller_depth", "config", "filename", "mode", "layout"],
      initLogger,
    ),
    set_level: fn(["logger_id", "level"], setLevel),
    log_trace: levelFn("TRACE"),
    log_debug: levelFn("DEBUG"),
    log_info: levelFn("INFO"),
    log_warn: levelFn("WARN"),
    log_warning: levelFn("WARN"),
    log_error: levelFn("ERROR"),
    log_fatal: levelFn("FATAL"),
    logdie: fn(LOG_PARAMS, (args, ctx) => log("FATAL", args, ctx, { should_exit: true }), {
      variadic: true,
    }),
    log_message: fn(["logger_id", "level", ...LOG_PARAMS.slice(1)], (args, ctx) => {
      const level = levelName(args.level);
      if (!level || level === "ALL" || level === "OFF") {
        return failure(`Unknown log level: ${String(args.level)}`);
      }
      return log(level, args, ctx);
    }, { variadic: true }),
    cleanup_logger: fn(["logger_id"], async (args, ctx) => {
      const ok = loggerOf(ctx, args.logger_id) !== undefined &&
        (await loggers(ctx).delete(String(args.logger_id), "closed"));
      return wrapped({ logger_id: args.logger_id ?? null, cleaned_up: ok });
    }),
  },
  // Backstop for the exit poller: flush the lines held for callers that have exited.
  cleanupStale: () => CallerOutputs.flushExited(),
});

export default loggingHelper;
