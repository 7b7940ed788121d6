/**
 * Logs (issue: daemon and security logs with built-in rotation): no line lost, torn or
 * duplicated through rotations under concurrent load; redaction; alerts; dropped-line counting.
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_support/daemon.ts";
import { rawJson } from "../_support/raw.ts";
import { LogFile } from "../../src/log/file_sink.ts";
import { checkLogFiles } from "../../src/daemon/housekeeping.ts";

async function allLines(dir: string, base: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name === base || e.name.startsWith(`${base}.`)) {
      let text: string;
      if (e.name.endsWith(".gz")) {
        const f = await Deno.open(`${dir}/${e.name}`);
        text = await new Response(f.readable.pipeThrough(new DecompressionStream("gzip"))).text();
      } else text = await Deno.readTextFile(`${dir}/${e.name}`);
      lines.push(...text.split("\n").filter((l) => l !== ""));
    }
  }
  return lines;
}

for (const compress of ["0", "1"]) {
  Deno.test({
    name:
      `logs keep every line through rotations under 64 concurrent clients (compress=${compress})`,
    fn: async () => {
      await using d = await startTestDaemon({
        CPAN_BRIDGE_DEBUG: "1",
        CPAN_BRIDGE_LOG_MAX_BYTES: "40000",
        CPAN_BRIDGE_LOG_KEEP: "200",
        CPAN_BRIDGE_LOG_COMPRESS: compress,
      });
      const clients = 64, perClient = 20;
      await Promise.all(Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; i < perClient; i++) {
          const r = await rawJson(d.socket, {
            module: "test",
            function: "echo",
            params: { mark: `c${c}-r${i}` },
          });
          assert.equal(r.success, true);
        }
      }));
      await d.daemon.context.logs.flush();
      const stats = d.daemon.context.logs.stats().daemon;
      assert.ok(stats.rotations >= 3, `only ${stats.rotations} rotations`);
      assert.equal(stats.dropped, 0);
      const lines = await allLines(d.dir, "cpan_daemon.log");
      for (const l of lines) {
        assert.match(
          l,
          /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[[A-Z]+\] CPAN(Daemon|Security): /,
          "torn line",
        );
      }
      const marks = lines.map((l) => /"mark":"(c\d+-r\d+)"/.exec(l)?.[1]).filter((m) =>
        m !== undefined
      );
      assert.equal(marks.length, clients * perClient, "every request logged once");
      assert.equal(new Set(marks).size, clients * perClient, "no duplicates");
      const handling = lines.filter((l) => l.includes("Handling client connection")).length;
      assert.ok(
        handling >= clients * perClient,
        'the guide\'s grep -c "Handling client" counts connections',
      );
      const files = (await Array.fromAsync(Deno.readDir(d.dir))).filter((e) =>
        e.name.startsWith("cpan_daemon.log.")
      ).map((e) => e.name);
      if (compress === "1") assert.ok(files.every((f) => f.endsWith(".gz")), files.join(","));
      else {for (const f of files) {
          assert.ok((await Deno.stat(`${d.dir}/${f}`)).size <= 40000, `${f} exceeds the limit`);
        }}
    },
  });
}

Deno.test({
  name: "logs redact every secret field, at any depth",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_DEBUG: "1" });
    const secrets = {
      password: "pw-SECRET-1",
      passwd: "pw-SECRET-2",
      passphrase: "pw-SECRET-3",
      secret: "pw-SECRET-4",
      token: "pw-SECRET-5",
      key: "pw-SECRET-6",
      nested: { db_password: "pw-SECRET-7", list: [{ api_key: "pw-SECRET-8" }] },
      headers: { Authorization: "Bearer pw-SECRET-9" },
      note: "<script>alert(1)</script> ../../etc",
    };
    await rawJson(d.socket, {
      module: "test",
      function: "echo",
      params: secrets,
      request_id: "1_2_3",
    });
    await rawJson(d.socket, { module: "no_such_mod", function: "x", params: secrets });
    await d.daemon.context.logs.flush();
    const all = (await d.readLog("cpan_daemon.log")) + (await d.readLog("cpan_security.log"));
    assert.match(all, /\[REDACTED\]/);
    assert.doesNotMatch(all, /pw-SECRET/);
    assert.match(all, /injection_attempt/);
  },
});

Deno.test({
  name: "security log writes one SECURITY ALERT when injection attempts cross the threshold",
  fn: async () => {
    await using d = await startTestDaemon();
    for (let i = 0; i < 7; i++) {
      await rawJson(d.socket, {
        module: "test",
        function: "echo",
        params: { s: `<script>x${i}</script>` },
      });
    }
    await d.daemon.context.logs.flush();
    const sec = await d.readLog("cpan_security.log");
    const alerts = sec.split("\n").filter((l) => l.includes("SECURITY ALERT"));
    assert.equal(alerts.length, 1);
    assert.match(
      alerts[0]!,
      /\[SECURITY\] CRITICAL: SECURITY ALERT: injection_attempt threshold exceeded: 5 events in last hour \(threshold: 5\)/,
    );
    assert.equal(
      sec.split("\n").filter((l) => l.includes('"event_type": "injection_attempt"')).length,
      7,
    );
    const m = await rawJson(d.socket, { module: "system", function: "metrics" });
    assert.equal(
      (m.result as { security_summary: { security_alerts: number } }).security_summary
        .security_alerts,
      1,
    );
  },
});

Deno.test({
  name: "security log records validation failures with the contract's WARNING line",
  fn: async () => {
    await using d = await startTestDaemon();
    await rawJson(d.socket, { module: "hacker_module", function: "ping", request_id: "9_8_7" });
    await d.daemon.context.logs.flush();
    const sec = await d.readLog("cpan_security.log");
    assert.match(
      sec,
      /\[SECURITY\] INFO: \{"event_id": "[0-9a-f-]+", "timestamp": "[0-9T:.-]+", "event_type": "unauthorized_module", "severity": "error", "client_info": "_\d+_[\d.]+", "request_id": "9_8_7", "module": "hacker_module", "function": "ping", "details": \{"attempted_module": "hacker_module", "claimed_pid": 8\}\}/,
    );
    assert.match(
      sec,
      /\[SECURITY\] WARNING: Request validation failed - Request ID: 9_8_7, Client: _\d+_[\d.]+, Errors: \['Module not allowed: hacker_module'\]/,
    );
    const daemonLog = await d.readLog();
    assert.match(
      daemonLog,
      /\[ERROR\] CPANDaemon: Error handling client request: Request validation failed: Module not allowed: hacker_module/,
    );
    assert.match(
      daemonLog,
      /\[INFO\] CPANSecurity: \{"event_id"/,
      "security records also reach the daemon log",
    );
  },
});

Deno.test("LogFile drops and counts lines instead of blocking when its queue is full", async () => {
  const dir = await Deno.makeTempDir();
  const f = new LogFile(`${dir}/x.log`, { maxBytes: 0, keep: 0, compress: false, maxQueued: 10 });
  for (let i = 0; i < 1000; i++) f.write(`line ${i}\n`); // synchronous burst: the writer cannot keep up
  await f.close();
  const s = f.stats();
  assert.ok(s.dropped > 0, "some lines dropped");
  assert.equal(s.written + s.dropped, 1000, "every line is either written or counted");
  const text = await Deno.readTextFile(`${dir}/x.log`);
  assert.equal(text.split("\n").filter(Boolean).length, s.written);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("LogFile appends after an external copytruncate and counts failed writes", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/x.log`;
  const f = new LogFile(path, { maxBytes: 0, keep: 0, compress: false, maxQueued: 100 });
  f.write("before\n");
  await f.flush();
  await Deno.truncate(path, 0); // logrotate copytruncate
  f.write("after\n");
  await f.flush();
  assert.equal(await Deno.readTextFile(path), "after\n", "O_APPEND: no hole, no stale offset");
  await Deno.remove(dir, { recursive: true }); // the directory vanishes: writes fail
  f.reopen();
  f.write("lost\n");
  await f.flush();
  assert.equal(f.stats().dropped, 1);
  assert.match(String(f.stats().lastError), /No such file|not found/i);
  await f.close();
});

Deno.test("LogFile.reopen() writes the lines queued before it to the old file, later ones to the new", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/x.log`;
  const f = new LogFile(path, { maxBytes: 0, keep: 0, compress: false, maxQueued: 10_000 });
  try {
    // Keep the writer busy so that the next lines wait in the queue, as under load.
    for (let i = 0; i < 2000; i++) f.write(`busy ${i}\n`);
    await Deno.rename(path, `${path}.old`); // logrotate's move
    f.write("Received signal 1, reopening log files\n");
    f.reopen();
    f.write("after\n");
    await f.flush();
    const old = await Deno.readTextFile(`${path}.old`);
    assert.ok(old.endsWith("Received signal 1, reopening log files\n"), old.slice(-80));
    assert.equal(await Deno.readTextFile(path), "after\n");
  } finally {
    await f.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "logs in JSON-lines format carry time, log, level and message",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_LOG_FORMAT: "json" });
    await rawJson(d.socket, { module: "nope_mod", function: "x" });
    await d.daemon.context.logs.flush();
    for (const name of ["cpan_daemon.log", "cpan_security.log"] as const) {
      const lines = (await d.readLog(name)).split("\n").filter(Boolean);
      assert.ok(lines.length > 0);
      for (const l of lines) {
        const o = JSON.parse(l);
        assert.deepEqual(Object.keys(o), ["time", "log", "level", "message"]);
      }
    }
    assert.match(
      await d.readLog(),
      /"level":"ERROR","message":"Error handling client request: Request validation failed: Module not allowed: nope_mod"/,
    );
  },
});

Deno.test({
  name: "the janitor closes a stale connection and logs which one and why",
  fn: async () => {
    await using d = await startTestDaemon({
      CPAN_BRIDGE_STALE_TIMEOUT: "0.2",
      CPAN_BRIDGE_CLEANUP_INTERVAL: "0.1",
    });
    const conn = await Deno.connect({ transport: "unix", path: d.socket });
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      conn.close();
    }, 10_000);
    try {
      await conn.write(new TextEncoder().encode('{"module":"test"')); // never finished
      // The janitor closes it: the read ends (EOF or reset) without a reply.
      const got = await conn.read(new Uint8Array(64)).catch(() => null);
      assert.equal(got, null);
      assert.equal(timedOut, false, "the janitor did not close the connection within 10 s");
    } finally {
      clearTimeout(deadline);
      if (!timedOut) conn.close();
    }
    await d.daemon.context.logs.flush();
    const log = await d.readLog();
    assert.match(
      log,
      /\[INFO\] CPANDaemon: Closed stale connection _\d+_[\d.]+: idle for \d+\.\d s \(stale timeout 0\.2 s\)\n/,
    );
    assert.match(log, /Cleaned up 1 stale connections/);
  },
});

Deno.test({
  name: "the janitor reopens a daemon log moved away without SIGHUP",
  fn: async () => {
    await using d = await startTestDaemon();
    const path = `${d.dir}/cpan_daemon.log`;
    await d.daemon.context.logs.flush();
    await Deno.rename(path, `${path}.1`);
    // The path check runs every 10 s on the janitor's timer; run one as its tick would.
    await checkLogFiles(d.daemon.context);
    await rawJson(d.socket, { module: "test", function: "ping", params: {} });
    await d.daemon.context.logs.flush();
    const fresh = await Deno.readTextFile(path);
    assert.match(
      fresh,
      /\[WARNING\] CPANDaemon: Reopened log file .*cpan_daemon\.log: it was moved or removed by someone else \(no SIGHUP\)\n/,
    );
    assert.match(await Deno.readTextFile(`${path}.1`), /started successfully/);
  },
});
