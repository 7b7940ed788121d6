import assert from "node:assert/strict";
import { loggingHelper } from "../../../helpers/logging_helper/mod.ts";
import { formatDate, levelName, renderPattern } from "../../../helpers/logging_helper/layout.ts";
import type { LogEvent } from "../../../helpers/logging_helper/layout.ts";
import { parseProperties, resolve } from "../../../helpers/logging_helper/config.ts";
import type { CallContext } from "../../../helpers/types.ts";
import { makeTestContext } from "../../_support/context.ts";
import { waitFor } from "../../_support/wait.ts";
import { closeFd, dupCallerFd, writeFd } from "../../../helpers/logging_helper/caller_fd.ts";
import { heldBytesTotal, HOLD_LIMITS } from "../../../helpers/logging_helper/caller_output.ts";

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
    utf8: false,
  });
  assert.deepEqual(r.appenders[1], {
    kind: "screen",
    name: "Screen",
    stderr: false,
    pattern: "%p - %m%n",
    utf8: false,
    autoflush: false,
    chomp: false,
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

/** A real process whose stdout is `redirect` (a shell redirection), until it is killed. */
function callerWith(redirect: string): Deno.ChildProcess {
  return new Deno.Command("sh", { args: ["-c", `exec sleep 30 ${redirect}`] }).spawn();
}

/** Waits until the shell of callerWith() has redirected its stdout to `path`. */
async function redirected(p: Deno.ChildProcess, path: string): Promise<void> {
  await waitFor(async () => (await Deno.readLink(`/proc/${p.pid}/fd/1`).catch(() => "")) === path, {
    deadlineMs: 5000,
    what: `the shell's stdout redirected to ${path}`,
  });
}

async function bytesOf(path: string): Promise<number[]> {
  return [...await Deno.readFile(path)];
}

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

Deno.test("CallerOutputs.write() holds stdout of a > or >> file in Perl's 8192-byte chunks until the caller exits", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const clobber = callerWith(`> ${dir}/clobber`);
  const append = callerWith(`>> ${dir}/append`);
  try {
    const line = "x".repeat(99);
    for (const [p, name] of [[clobber, "clobber"], [append, "append"]] as const) {
      await redirected(p, `${dir}/${name}`);
      const ctx = { ...t.ctx, callerPid: p.pid };
      const id = (await call("init_logger", { layout: "%m%n" }, ctx)).result.logger_id;
      for (let i = 0; i < 100; i++) {
        assert.equal((await call("log_info", { logger_id: id, message: line }, ctx)).success, true);
      }
      const size = (await Deno.stat(`${dir}/${name}`)).size;
      assert.equal(size, 8192, name);
    }
    clobber.kill();
    append.kill();
    for (const name of ["clobber", "append"]) {
      await waitFor(
        async () => (await Deno.stat(`${dir}/${name}`)).size === 10_000,
        { deadlineMs: 5000, what: `10000 bytes in ${name}` },
      );
      assert.equal(await Deno.readTextFile(`${dir}/${name}`), `${line}\n`.repeat(100));
    }
  } finally {
    for (const p of [clobber, append]) {
      try {
        p.kill();
      } catch { /* exited */ }
      await p.status;
    }
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CallerOutputs.write() output held at daemon shutdown is written; other users are refused", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const p = callerWith(`> ${dir}/held`);
  const other = new Deno.Command("perl", {
    args: ["-e", "$( = $) = 65534; $< = $> = 65534; sleep 30"],
  }).spawn();
  try {
    await redirected(p, `${dir}/held`);
    const ctx = { ...t.ctx, callerPid: p.pid };
    const id = (await call("init_logger", { layout: "%m%n" }, ctx)).result.logger_id;
    await call("log_info", { logger_id: id, message: "kept" }, ctx);
    await t.close();
    assert.equal(await Deno.readTextFile(`${dir}/held`), "kept\n");
    const t2 = makeTestContext({ cwd: dir });
    try {
      const octx = { ...t2.ctx, callerPid: other.pid };
      await waitFor(async () => {
        const s = await Deno.readTextFile(`/proc/${other.pid}/status`);
        return /^Uid:\s+65534/m.test(s);
      }, { deadlineMs: 5000, what: "the other caller to run as uid 65534" });
      const oid = (await call("init_logger", {}, octx)).result.logger_id;
      assert.match(
        (await call("log_info", { logger_id: oid, message: "x" }, octx)).error,
        /runs as another user/,
      );
    } finally {
      await t2.close();
    }
  } finally {
    for (const c of [p, other]) {
      try {
        c.kill();
      } catch { /* exited */ }
      await c.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});

/** A caller whose stdout is `> path`: it prints `own\n` when a line arrives on its stdin, then exits. */
function printsOnCue(path: string): { p: Deno.ChildProcess; cue: () => Promise<void> } {
  const p = new Deno.Command("sh", {
    args: ["-c", `exec perl -e '$| = 1; <STDIN>; print "own\\n"' > ${path}`],
    stdin: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  return { p, cue: async () => (await w.write(new TextEncoder().encode("go\n")), await w.close()) };
}

Deno.test("dupCallerFd() shares the caller's file offset; a closed fd is an error", async () => {
  const dir = await Deno.makeTempDir();
  const { p, cue } = printsOnCue(`${dir}/out`);
  try {
    await redirected(p, `${dir}/out`);
    const fd = dupCallerFd(p.pid, 1);
    assert.equal(typeof fd, "number", JSON.stringify(fd));
    assert.equal(await Deno.readLink(`/proc/self/fd/${fd}`), `${dir}/out`);
    assert.equal(writeFd(fd as number, new TextEncoder().encode("daemon\n")), undefined);
    closeFd(fd as number);
    await cue();
    await p.status;
    assert.equal(await Deno.readTextFile(`${dir}/out`), "daemon\nown\n", "the caller wrote after");
    assert.match((dupCallerFd(Deno.pid, 987) as { error: string }).error, /Bad file descriptor/);
    assert.match((dupCallerFd(p.pid, 1) as { error: string }).error, /No such process/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CallerOutputs.write() lines held at daemon shutdown are not overwritten by the caller", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const { p, cue } = printsOnCue(`${dir}/out`);
  try {
    const ctx = { ...t.ctx, callerPid: p.pid };
    const id = (await call("init_logger", { layout: "%m%n" }, ctx)).result.logger_id;
    await waitFor(async () => (await Deno.readLink(`/proc/${p.pid}/exe`)).includes("perl"), {
      deadlineMs: 5000,
      what: "the caller to exec perl",
    });
    assert.equal(
      (await call("log_info", { logger_id: id, message: "held line" }, ctx)).success,
      true,
    );
    assert.equal(await Deno.readTextFile(`${dir}/out`), "", "held while the caller runs");
    await t.close();
    await cue();
    await p.status;
    assert.equal(await Deno.readTextFile(`${dir}/out`), "held line\nown\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CallerOutputs.write() stops holding after HOLD_LIMITS.holdMs and beyond HOLD_LIMITS.totalBytes", async () => {
  const dir = await Deno.makeTempDir();
  const t = makeTestContext({ cwd: dir });
  const a = callerWith(`> ${dir}/a`);
  const b = callerWith(`> ${dir}/b`);
  const saved = { ...HOLD_LIMITS };
  try {
    HOLD_LIMITS.totalBytes = 1000;
    HOLD_LIMITS.holdMs = 300;
    const line = "y".repeat(599);
    const ids = [];
    for (const [p, name] of [[a, "a"], [b, "b"]] as const) {
      await redirected(p, `${dir}/${name}`);
      const ctx = { ...t.ctx, callerPid: p.pid };
      ids.push((await call("init_logger", { layout: "%m%n" }, ctx)).result.logger_id);
    }
    const before = heldBytesTotal();
    await call("log_info", { logger_id: ids[0], message: line }, { ...t.ctx, callerPid: a.pid });
    assert.equal(heldBytesTotal() - before, 600, "a's line is held");
    assert.equal((await Deno.stat(`${dir}/a`)).size, 0);
    await call("log_info", { logger_id: ids[1], message: line }, { ...t.ctx, callerPid: b.pid });
    assert.equal(
      (await Deno.stat(`${dir}/b`)).size,
      600,
      "b's line went out: the bound was reached",
    );
    assert.equal(heldBytesTotal() - before, 600);
    const t0 = Date.now();
    await waitFor(async () => (await Deno.stat(`${dir}/a`)).size === 600, {
      deadlineMs: 5000,
      what: "a's held line in a",
    });
    assert.ok(
      Date.now() - t0 < 2000,
      "a's held line went out after the hold limit, a still running",
    );
    await call("log_info", { logger_id: ids[0], message: "later" }, { ...t.ctx, callerPid: a.pid });
    assert.equal(await Deno.readTextFile(`${dir}/a`), `${line}\nlater\n`, "later lines at once");
    assert.equal(heldBytesTotal(), before);
  } finally {
    Object.assign(HOLD_LIMITS, saved);
    for (const p of [a, b]) {
      try {
        p.kill();
      } catch { /* exited */ }
      await p.status;
    }
    await t.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "dupCallerFd() returns the kernel's refusal (EPERM) as an error, never throws",
  ignore: Deno.uid() !== 0, // needs to run the probe as another user
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const target = callerWith(`> ${dir}/out`);
    try {
      await Deno.chmod(dir, 0o755);
      const mod = new URL("../../../helpers/logging_helper/caller_fd.ts", import.meta.url).href;
      await Deno.writeTextFile(
        `${dir}/probe.ts`,
        `import { dupCallerFd } from "${mod}";\n` +
          `console.log(JSON.stringify(dupCallerFd(${target.pid}, 1)));\n`,
      );
      await Deno.chmod(`${dir}/probe.ts`, 0o644);
      const out = await new Deno.Command("setpriv", {
        args: ["--reuid", "65534", "--regid", "65534", "--clear-groups", Deno.execPath()]
          .concat(["run", "-A", "--no-config", "--quiet", `${dir}/probe.ts`]),
        env: { HOME: dir, DENO_DIR: `${dir}/deno_dir` },
        stderr: "inherit",
      }).output();
      const r = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.deepEqual(r, { error: `pidfd_getfd(${target.pid}, 1): Operation not permitted` });
    } finally {
      target.kill();
      await target.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
