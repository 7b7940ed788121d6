/**
 * @module
 * The `logging_helper` (Log::Log4perl) functions called directly: filtered lines to file appenders,
 * errors as results, a Perl string's bytes, and enhanced messages in the `%d|%p>` layout.
 */

import assert from "node:assert/strict";
import { makeTestContext } from "../../_support/context.ts";
import { waitFor } from "../../_support/wait.ts";
import { call, callerWith, redirected } from "./_callers.ts";

async function bytesOf(path: string): Promise<number[]> {
  return [...await Deno.readFile(path)];
}

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
      message: "a.pl line:3: m",
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
      /^Can't open no\/dir\/x\.log \(No such file or directory\)$/,
    );
    assert.match(
      (await call("init_logger", { config: "missing.conf" }, t.ctx)).error,
      /^Cannot open missing\.conf \(No such file or directory\)$/,
    );
    await Deno.mkdir(`${dir}/conf.d`);
    assert.match(
      (await call("init_logger", { config: "conf.d" }, t.ctx)).error,
      /^Cannot read Log4perl configuration: Cannot read '.*conf\.d': a directory$/,
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

Deno.test("log_info() writes the Perl string's bytes; a utf8 appender encodes characters", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  try {
    const plain = (await call("init_logger", { filename: "b.log", layout: "%m%n" }, t.ctx)).result;
    for (const message of ["Z\u00c3\u00bc", "\u65e5", "0", "", null]) {
      await call("log_info", { logger_id: plain.logger_id, message }, t.ctx);
    }
    assert.deepEqual(await bytesOf(`${dir}/b.log`), [
      ...[0x5a, 0xc3, 0xbc, 10],
      ...[0xe6, 0x97, 0xa5, 10],
      ...[0x30, 10],
      10,
      10,
    ]);
    const conf =
      "log4perl.rootLogger = INFO, U\nlog4perl.appender.U = Log::Log4perl::Appender::File\n" +
      "log4perl.appender.U.filename = u.log\nlog4perl.appender.U.utf8 = 1\n" +
      "log4perl.appender.U.layout = PatternLayout\nlog4perl.appender.U.layout.ConversionPattern = %m%n";
    const u = (await call("init_logger", { config: conf }, t.ctx)).result;
    await call("log_info", { logger_id: u.logger_id, message: "Z\u00c3\u00bc" }, t.ctx);
    assert.deepEqual(await bytesOf(`${dir}/u.log`), [0x5a, 0xc3, 0x83, 0xc2, 0xbc, 10]);
  } finally {
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log_debug() keeps an enhanced message as sent, in the %d|%p> layout", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const p = callerWith(`>> ${dir}/out`);
  try {
    await redirected(p, `${dir}/out`);
    const ctx = { ...t.ctx, callerPid: p.pid };
    const id = (await call("init_logger", { level: "DEBUG" }, ctx)).result.logger_id;
    const sent = "DEBUG: prog.pl line:2: Variable value: 42";
    const r = await call("log_debug", {
      logger_id: id,
      message: sent,
      filename: "prog.pl",
      line: 2,
      enhanced: 1,
    }, ctx);
    assert.equal(r.result.message, sent);
    assert.match(
      r.result.formatted,
      /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\|DEBUG> DEBUG: prog\.pl line:2: Var/,
    );
    const i = await call("log_info", { logger_id: id, message: "plain" }, ctx);
    assert.match(
      i.result.formatted,
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}\/\d\d\/\d\d [\d:]{8}\|plain$/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/out`), "", "stdout to a file: Perl buffers it");
    p.kill();
    await p.status;
    const text = await waitFor(async () => {
      const s = await Deno.readTextFile(`${dir}/out`);
      return s.split("\n").length === 3 ? s : undefined;
    }, { deadlineMs: 5000, what: "two lines in out" });
    assert.equal(text, `${r.result.formatted}\n${i.result.formatted}\n`);
  } finally {
    try {
      p.kill();
    } catch { /* exited */ }
    await p.status;
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});
