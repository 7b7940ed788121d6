import assert from "node:assert/strict";
import { loggingHelper } from "../../helpers/logging_helper/mod.ts";
import { formatDate, levelName, renderPattern } from "../../helpers/logging_helper/layout.ts";
import type { LogEvent } from "../../helpers/logging_helper/layout.ts";
import { parseProperties, resolve } from "../../helpers/logging_helper/config.ts";
import type { CallContext } from "../../helpers/types.ts";
import { makeTestContext } from "../_support/context.ts";

const f = loggingHelper.functions;
// deno-lint-ignore no-explicit-any
type R = any;

async function call(name: string, args: Record<string, unknown>, ctx: CallContext): Promise<R> {
  return await f[name]!.run(args, ctx);
}

const EVENT: LogEvent = {
  category: "App.Db",
  level: "WARN",
  message: "disk 95%",
  time: new Date(2024, 0, 5, 7, 8, 9, 12),
  filename: "job.pl",
  line: 42,
  package: "My::Pkg",
  pid: 4242,
  hostname: "box",
  elapsedMs: 1500,
};

Deno.test("renderPattern() implements Log4perl's PatternLayout", () => {
  assert.equal(renderPattern("%d %p %m%n", EVENT), "2024/01/05 07:08:09 WARN disk 95%\n");
  assert.equal(
    renderPattern("[%-5p] [%5p] %.2p|%c{1}|%C{1}|%F:%L|%P|%H|%r|%%|%x", EVENT),
    "[WARN ] [ WARN] WA|Db|Pkg|job.pl:42|4242|box|1500|%|%x",
  );
  assert.equal(
    renderPattern("%d{EEE yyyy/MM/dd HH:mm:ss}|%m", EVENT),
    "Fri 2024/01/05 07:08:09|disk 95%",
  );
  assert.equal(renderPattern("%d{ISO8601}", EVENT), "2024-01-05 07:08:09,012");
  assert.equal(formatDate("dd MMM yy h:mm a 'at' EEEE", EVENT.time), "05 Jan 24 7:08 AM at Friday");
});

Deno.test("levelName() accepts Log4perl and Python names", () => {
  assert.equal(levelName("warn"), "WARN");
  assert.equal(levelName("WARNING"), "WARN");
  assert.equal(levelName("critical"), "FATAL");
  assert.equal(levelName(40000), "ERROR");
  assert.equal(levelName("LOUD"), undefined);
});

Deno.test("resolve() inherits levels and appenders up the category tree", () => {
  const p = parseProperties(`
    # comment
    log4perl.rootLogger = ERROR, Screen
    log4perl.logger.App = INFO, F
    log4perl.appender.Screen = Log::Log4perl::Appender::Screen
    log4perl.appender.Screen.stderr = 0
    log4perl.appender.F = Log::Log4perl::Appender::File
    log4perl.appender.F.filename = app.log
    log4perl.appender.F.layout = PatternLayout
    log4perl.appender.F.layout.ConversionPattern = %p \\
       %m%n
  `);
  const r = resolve(p, "App::Db::Query");
  assert.ok(typeof r === "object");
  assert.equal(r.level, "INFO");
  assert.deepEqual(r.appenders.map((a) => a.name), ["F", "Screen"]);
  assert.deepEqual(r.appenders[0], {
    kind: "file",
    name: "F",
    filename: "app.log",
    mode: "append",
    pattern: "%p %m%n",
  });
  assert.deepEqual(r.appenders[1], {
    kind: "screen",
    name: "Screen",
    stderr: false,
    pattern: "%p - %m%n",
  });
  const other = resolve(p, "Other");
  assert.ok(typeof other === "object" && other.level === "ERROR");
  p.set("log4perl.additivity.App", "0");
  const alone = resolve(p, "App");
  assert.ok(typeof alone === "object" && alone.appenders.length === 1);
  p.set("log4perl.logger.X", "DEBUG, Nope");
  assert.match(String(resolve(p, "X")), /Appender Nope is not defined/);
});

Deno.test("logging functions write filtered lines to a file appender", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    const i = await call("init_logger", {
      category: "main",
      level: "INFO",
      filename: "run.log",
      layout: "%p %c %m%n",
    }, t.ctx);
    assert.deepEqual(Object.keys(i.result).sort(), [
      "appender",
      "category",
      "files",
      "level",
      "logger_id",
    ]);
    assert.deepEqual([i.result.category, i.result.level, i.result.appender], [
      "main",
      "INFO",
      "file",
    ]);
    const id = i.result.logger_id;
    const d = await call("log_debug", { logger_id: id, message: "no" }, t.ctx);
    assert.deepEqual(d.result, { logged: false, level: "DEBUG", message: "no" });
    const w = await call("log_warn", { logger_id: id, message: "careful" }, t.ctx);
    assert.deepEqual(w.result, {
      logged: true,
      level: "WARN",
      message: "careful",
      formatted: "WARN main careful",
    });
    assert.deepEqual((await call("set_level", { logger_id: id, level: "trace" }, t.ctx)).result, {
      logger_id: id,
      level: "TRACE",
      numeric_level: 5000,
    });
    await call("log_trace", { logger_id: id, message: "t" }, t.ctx);
    await call("log_message", {
      logger_id: id,
      level: "ERROR",
      message: "m",
      filename: "a.pl",
      line: 3,
      enhanced: 1,
    }, t.ctx);
    const die = await call("logdie", { logger_id: id, message: "bye" }, t.ctx);
    assert.equal(die.result.should_exit, true);
    assert.equal(
      await Deno.readTextFile(`${dir}/run.log`),
      "WARN main careful\nTRACE main t\nERROR main a.pl line:3: m\nFATAL main bye\n",
    );
    // mode write truncates once per caller, not per logger.
    const w1 =
      (await call("init_logger", { filename: "w.log", mode: "write", layout: "%m%n" }, t.ctx))
        .result.logger_id;
    await call("log_info", { logger_id: w1, message: "one" }, t.ctx);
    const w2 =
      (await call("init_logger", { filename: "w.log", mode: "write", layout: "%m%n" }, t.ctx))
        .result.logger_id;
    await call("log_info", { logger_id: w2, message: "two" }, t.ctx);
    assert.equal(await Deno.readTextFile(`${dir}/w.log`), "one\ntwo\n");
    assert.equal((await call("cleanup_logger", { logger_id: w2 }, t.ctx)).result.cleaned_up, true);
    assert.match(
      (await call("log_info", { logger_id: w2, message: "x" }, t.ctx)).error,
      /^Logger not found/,
    );
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("logging errors are returned, never thrown", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    assert.match(
      (await call("init_logger", { level: "LOUD" }, t.ctx)).error,
      /Unknown log level: LOUD/,
    );
    assert.match(
      (await call("init_logger", { filename: "no/dir/x.log" }, t.ctx)).error,
      /^Cannot open log file no\/dir\/x\.log: No such file/,
    );
    assert.match(
      (await call("init_logger", { config: "missing.conf" }, t.ctx)).error,
      /^Cannot read Log4perl configuration missing\.conf/,
    );
    assert.match(
      (await call("init_logger", {
        config: "log4perl.rootLogger = INFO, A\nlog4perl.appender.A = Log::Dispatch::Email",
      }, t.ctx)).error,
      /Unsupported appender class/,
    );
    // sysout without a caller PID cannot reach any stdout: the wrapper's fallback prints instead.
    const noPid = { ...t.ctx, callerPid: undefined };
    const id = (await call("init_logger", {}, noPid)).result.logger_id;
    assert.match(
      (await call("log_info", { logger_id: id, message: "x" }, noPid)).error,
      /PID is unknown/,
    );
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
