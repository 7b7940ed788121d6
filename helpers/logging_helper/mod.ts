/**
 * @module
 * `logging_helper`: serves LogHelper.pm, which replaces Log::Log4perl as used through
 * CPS::WlaLog (helpers contract §3.8, §2.5). Wrapped results; `logger_id` handles (UUID4).
 *
 * WHERE LOG LINES GO (the decision of §3.8):
 * - A logger has appenders, as in Log4perl. `init_logger` may name them: `config` (Log4perl
 *   configuration text, or the path of a configuration file) with Log::Log4perl::Appender::File
 *   and ::Screen appenders and Simple/Pattern layouts, or the shortcut `filename` (+ `mode`,
 *   `layout`) for one File appender. File names are relative to the Perl CALLER's cwd; files are
 *   opened for append per line (O_APPEND), `mode => "write"` truncates at init as Log4perl does.
 * - Without either, the logger has LogHelper's "sysout" appender: the line is written to the
 *   CALLER's own stdout (Screen appenders: its stderr, or stdout with `stderr = 0`), opened through
 *   `/proc/<caller pid>/fd/N` (the PID in `request_id`; same uid). That is where CPS::WlaLog's lines
 *   went before the bridge, and what Control-M captures. It is done only when it is safe: a pipe,
 *   terminal, socket or /dev/null, or a regular file the caller opened with O_APPEND (`>>`). A
 *   regular file opened without O_APPEND (`> out.log`) is NOT written, because our bytes would be
 *   overwritten by the caller's next write at its own offset; then, as when the PID is unknown, the
 *   call returns `{success:false, error}` and LogHelper prints its own fallback line to the
 *   caller's STDERR, so no line is ever lost. Lines can interleave out of order with what Perl
 *   itself buffers on STDOUT.
 * - The default sysout layout is CPS::WlaLog's `%d{EEE yyyy/MM/dd HH:mm:ss}|%m%n`, with `LEVEL> `
 *   before enhanced DEBUG/ERROR/FATAL messages; configured appenders use their own layouts.
 * Levels filter as in Log4perl (the logger's level, and appender Thresholds). Times are the
 * daemon's local time zone.
 */

import { hostname } from "node:os";
import { defineHelper, failure, fn, wrapped } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import type { HandleTable } from "../../src/handles.ts";
import { levelName, LEVELS, renderPattern } from "./layout.ts";
import type { LogEvent } from "./layout.ts";
import { parseProperties, resolve } from "./config.ts";
import type { AppenderSpec } from "./config.ts";

/** CPS::WlaLog's line layout. */
export const SYSOUT_PATTERN = "%d{EEE yyyy/MM/dd HH:mm:ss}|%m%n";

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
  const id = "files";
  return t.get(id) ?? (t.add(new Set(), id), t.get(id)!);
}

function loggers(ctx: CallContext): HandleTable<Logger> {
  return ctx.handles<Logger>("loggers", {
    prefix: "logger",
    idleTtlMs: LOGGER_TTL_MS,
    newId: () => crypto.randomUUID(),
  });
}

function errText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "Permission denied";
  return e instanceof Error ? e.message.replace(/ \(os error \d+\).*$/, "") : String(e);
}

async function loadConfig(config: string, ctx: CallContext): Promise<string> {
  if (/[=\n]/.test(config)) return config;
  return await Deno.readTextFile(await ctx.resolvePath(config));
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
    let text: string;
    try {
      text = await loadConfig(args.config, ctx);
    } catch (e) {
      return failure(`Cannot read Log4perl configuration ${args.config}: ${errText(e)}`);
    }
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
    const path = await ctx.resolvePath(s.filename);
    try {
      // Log4perl opens (and with mode "write" truncates) the file when the appender is made.
      const key = `${ctx.callerPid ?? 0}:${path}`;
      const seen = truncated(ctx);
      const clobber = s.mode === "write" && !seen.has(key);
      await Deno.writeFile(path, new Uint8Array(0), { append: !clobber, create: true });
      if (clobber) seen.add(key);
    } catch (e) {
      return failure(`Cannot open log file ${s.filename}: ${errText(e)}`);
    }
    appenders.push({ ...s, path });
  }
  const logger: Logger = {
    category,
    level,
    appenders,
    appenderName,
    pid: ctx.callerPid,
    started: Date.now(),
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
  const l = loggers(ctx).get(args.logger_id);
  if (!l) return failure(`Logger not found: ${String(args.logger_id)}`);
  const level = levelName(args.level);
  if (!level) return failure(`Unknown log level: ${String(args.level)}`);
  l.level = level;
  return wrapped({ logger_id: args.logger_id, level, numeric_level: LEVELS[level] });
}

/** Whether the caller's fd can be appended to without clobbering its own writes. */
async function fdTarget(pid: number, fd: number): Promise<string | { error: string }> {
  const path = `/proc/${pid}/fd/${fd}`;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    return {
      error: `Cannot reach the caller's ${fd === 1 ? "stdout" : "stderr"} (${path}): ${errText(e)}`,
    };
  }
  if (info.isFile) {
    const fdinfo = await Deno.readTextFile(`/proc/${pid}/fdinfo/${fd}`).catch(() => "");
    const flags = /^flags:\s*([0-7]+)/m.exec(fdinfo);
    if (!flags || (parseInt(flags[1]!, 8) & 0o2000) === 0) {
      return {
        error:
          `The caller's ${
            fd === 1 ? "stdout" : "stderr"
          } is a regular file opened without O_APPEND ` +
          `(use >> to redirect, or a file appender); not writing to it`,
      };
    }
  }
  return path;
}

async function writeFd(
  pid: number | undefined,
  fd: number,
  text: string,
): Promise<string | undefined> {
  if (pid === undefined) {
    return "The caller's PID is unknown (no request_id), cannot reach its stdout";
  }
  const target = await fdTarget(pid, fd);
  if (typeof target !== "string") return target.error;
  try {
    const f = await Deno.open(target, { write: true, append: true });
    try {
      const data = new TextEncoder().encode(text);
      for (let off = 0; off < data.length;) off += await f.write(data.subarray(off));
    } finally {
      f.close();
    }
  } catch (e) {
    return `Cannot write to the caller's ${fd === 1 ? "stdout" : "stderr"}: ${errText(e)}`;
  }
  return undefined;
}

function enhancedText(level: string, args: Args): string {
  const message = args.message === undefined || args.message === null ? "" : String(args.message);
  if (!args.enhanced || (args.enhanced as unknown) === "0") return message;
  const where = `${String(args.filename ?? "")} line:${String(args.line ?? "")}`;
  if (level === "DEBUG") return `DEBUG: ${where}: ${message}`;
  if (level === "ERROR" || level === "FATAL") return `${where}: ${message}`;
  return message;
}

async function log(
  level: string,
  args: Args,
  ctx: CallContext,
  extra: Record<string, unknown> = {},
) {
  const l = loggers(ctx).get(args.logger_id);
  if (!l) return failure(`Logger not found: ${String(args.logger_id)}`);
  const message = enhancedText(level, args);
  if (LEVELS[level]! < LEVELS[l.level]!) {
    return wrapped({ logged: false, level, message, ...extra });
  }
  const enhanced = Boolean(args.enhanced) && args.enhanced !== "0" &&
    (level === "DEBUG" || level === "ERROR" || level === "FATAL");
  const event: Omit<LogEvent, "message"> = {
    // Log4perl's category names use dots: App::Db is "App.Db".
    category: l.category.replaceAll("::", "."),
    level,
    time: new Date(),
    filename: String(args.filename ?? ""),
    line: args.line === undefined || args.line === null ? "" : String(args.line),
    package: String(args.package ?? "main"),
    pid: ctx.callerPid ?? Deno.pid,
    hostname: hostname(),
    elapsedMs: Date.now() - l.started,
  };
  const lines: string[] = [];
  const errors: string[] = [];
  for (const a of l.appenders) {
    if (a.threshold && LEVELS[level]! < (LEVELS[levelName(a.threshold) ?? "ALL"] ?? 0)) continue;
    const shown = a.name === "sysout" && enhanced ? `${level}> ${message}` : message;
    const text = renderPattern(a.pattern, { ...event, message: shown });
    lines.push(text.replace(/\n$/, ""));
    if (a.kind === "file") {
      try {
        await Deno.writeTextFile(a.path!, text, { append: true });
      } catch (e) {
        errors.push(`Cannot write to log file ${a.filename}: ${errText(e)}`);
      }
    } else {
      const err = await writeFd(ctx.callerPid, a.stderr ? 2 : 1, text);
      if (err) errors.push(err);
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
      const ok = await loggers(ctx).delete(String(args.logger_id), "closed");
      return wrapped({ logger_id: args.logger_id ?? null, cleaned_up: ok });
    }),
  },
});

export default loggingHelper;
