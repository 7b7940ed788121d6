/**
 * The operations API (contract §4, §10.3) and the client mode: shapes and values of every
 * built-in, `--health` exit codes for all four states, status, dashboard, call, process mode.
 */
import assert from "node:assert/strict";
import { runCli, spawnDaemon, startTestDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawCall, rawJson } from "../_support/raw.ts";

type Obj = Record<string, unknown>;
const result = async (socket: string, m: string, f: string) => {
  const r = await rawJson(socket, { module: m, function: f, params: {} });
  assert.equal(r.success, true, JSON.stringify(r));
  return r.result as Obj;
};
const keys = (o: unknown) => Object.keys(o as Obj);

Deno.test({
  name: "system.metrics has every key the dashboards read, with real values",
  fn: async () => {
    await using d = await startTestDaemon();
    for (let i = 0; i < 5; i++) {
      await rawJson(d.socket, { module: "datetime_helper", function: "now", params: {} });
    }
    await rawCall(d.socket, '{"module":"nope_mod","function":"x"}');
    const m = await result(d.socket, "system", "metrics");
    for (
      const k of [
        "timestamp",
        "daemon_info",
        "resource_status",
        "performance_metrics",
        "security_summary",
        "connection_summary",
        "module_status",
        "system_stats",
      ]
    ) {
      assert.ok(k in m, `missing ${k}`);
    }
    const info = m.daemon_info as Obj;
    assert.equal(info.version, "1.0.0");
    assert.match(String(info.uptime_formatted), /^\d+h \d+m \d+s$/);
    const p = m.performance_metrics as Obj;
    assert.deepEqual(keys(p), [
      "total_requests",
      "successful_requests",
      "failed_requests",
      "avg_response_time",
      "p95_response_time",
      "p99_response_time",
      "requests_per_second",
      "error_rate",
      "uptime_seconds",
    ]);
    assert.equal(
      p.total_requests,
      6,
      "5 helper calls + 1 refused request (the metrics call is recorded after)",
    );
    assert.equal(p.failed_requests, 1);
    assert.ok(Math.abs((p.error_rate as number) - 1 / 6) < 1e-9, "error_rate is a fraction");
    const r = m.resource_status as Obj;
    assert.deepEqual(keys(r), [
      "memory_mb",
      "cpu_percent",
      "requests_per_minute",
      "concurrent_requests",
      "violations",
      "warnings",
      "peak_memory",
      "peak_cpu",
      "alerts",
    ]);
    assert.ok(
      (r.memory_mb as number) > 10 && (r.memory_mb as number) < 1000,
      `memory_mb ${r.memory_mb}`,
    );
    assert.ok(
      (r.cpu_percent as number) >= 0 && (r.cpu_percent as number) <= 200,
      `cpu_percent ${r.cpu_percent}`,
    );
    assert.equal(r.requests_per_minute, 5, "helper calls in the last minute");
    const s = m.security_summary as Obj;
    assert.equal(s.validation_failures, 1);
    assert.equal(s.requests_rejected, 1);
    assert.ok((s.total_security_events as number) >= 1);
    const ms = m.module_status as Obj;
    assert.equal(ms.loaded_modules, (ms.available_modules as string[]).length);
    assert.ok((ms.available_modules as string[]).includes("datetime_helper"));
    assert.equal((m.system_stats as Obj).validation_failures, 1);
    // ops shim: a copy under result, and success
    assert.equal(m.success, true);
    assert.deepEqual((m.result as Obj).performance_metrics, m.performance_metrics);
  },
});

Deno.test({
  name: "system.performance reports modules, failures and health indicators",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_HEALTH_ERROR_RATE_WARN: "0.05" });
    for (let i = 0; i < 3; i++) {
      await rawJson(d.socket, { module: "datetime_helper", function: "now", params: {} });
    }
    await rawJson(d.socket, { module: "datetime_helper", function: "now", params: { bogus: 1 } });
    const p = await result(d.socket, "system", "performance");
    assert.deepEqual(keys(p).slice(0, 4), [
      "performance_metrics",
      "module_performance",
      "recent_errors",
      "health_indicators",
    ]);
    const top = (p.module_performance as Obj).top_modules as Obj[];
    assert.equal(top[0]!.module_function, "datetime_helper.now");
    assert.equal(top[0]!.requests, 4);
    assert.equal(top[0]!.error_rate, 25, "percent in top_modules");
    const errs = p.recent_errors as Obj[];
    assert.equal(errs.length, 1);
    assert.match(String(errs[0]!.error), /unexpected keyword argument 'bogus'/);
    const hi = p.health_indicators as Obj;
    assert.equal(hi.overall_health, "degraded");
    assert.deepEqual(hi.concerns, ["High error rate: 25.0%"]);
  },
});

Deno.test({
  name: "system.health is healthy when it is, with contract checks",
  fn: async () => {
    await using d = await startTestDaemon();
    const h = await result(d.socket, "system", "health");
    assert.equal(h.overall_status, "healthy", JSON.stringify(h));
    assert.deepEqual(h.errors, []);
    const checks = h.checks as Record<string, Obj>;
    for (
      const c of [
        "daemon_running",
        "thread_health",
        "memory_usage",
        "cpu_usage",
        "helper_modules",
        "socket_connectivity",
        "performance",
      ]
    ) {
      assert.equal(checks[c]!.status, "pass", c);
    }
  },
});

Deno.test({
  name: "system.health turns degraded and unhealthy by the configured thresholds",
  fn: async () => {
    {
      await using d = await startTestDaemon({ CPAN_BRIDGE_HEALTH_MEMORY_WARN_MB: "1" });
      const h = await result(d.socket, "system", "health");
      assert.equal(h.overall_status, "degraded");
      assert.match((h.warnings as string[])[0]!, /^Elevated memory usage: \d+\.\d MB$/);
    }
    {
      await using d = await startTestDaemon({
        CPAN_BRIDGE_HEALTH_MEMORY_WARN_MB: "1",
        CPAN_BRIDGE_HEALTH_MEMORY_CRIT_MB: "2",
      });
      const h = await result(d.socket, "system", "health");
      assert.equal(h.overall_status, "unhealthy");
      assert.match((h.errors as string[])[0]!, /^High memory usage/);
    }
  },
});

Deno.test({
  name: "system.connections and system.cleanup count and close stale connections",
  fn: async () => {
    await using d = await startTestDaemon({
      CPAN_BRIDGE_STALE_TIMEOUT: "0.2",
      CPAN_BRIDGE_READ_TIMEOUT: "60",
    });
    const idle = await Deno.connect({ transport: "unix", path: d.socket });
    try {
      await waitFor(
        async () =>
          ((await result(d.socket, "system", "connections")).stale_connections as number) === 1,
        { what: "a stale connection", deadlineMs: 10_000 },
      );
      const c = await result(d.socket, "system", "connections");
      assert.deepEqual(c.connection_limits, { max_concurrent: 100, stale_timeout: 0.2 });
      const list = c.connections as Obj[];
      assert.ok(list.some((x) => x.status === "stale"));
      assert.deepEqual(keys(list[0]), [
        "connection_id",
        "start_time",
        "duration_seconds",
        "requests_count",
        "last_activity",
        "idle_time",
        "status",
      ]);
      const cl = await result(d.socket, "system", "cleanup");
      assert.equal(cl.cleaned_connections, 1);
      assert.equal(
        ((cl.connections_details as Obj[])[0]!).connection_id,
        list.find((x) => x.status === "stale")!.connection_id,
      );
      // the stale socket itself was closed by cleanup
      const n = await idle.read(new Uint8Array(10)).catch(() => null);
      assert.equal(n, null);
    } finally {
      try {
        idle.close();
      } catch { /* closed by cleanup */ }
    }
  },
});

Deno.test({
  name:
    "system.info, system.stats, test.stats, test.health and validation_stats have the contract keys",
  fn: async () => {
    await using d = await startTestDaemon();
    const info = await result(d.socket, "system", "info");
    assert.equal(info.socket_path, d.socket);
    assert.deepEqual(info.configuration, {
      max_connections: 100,
      max_request_size: 10485760,
      connection_timeout: 1800,
      cleanup_interval: 300,
    });
    const st = await result(d.socket, "system", "stats");
    for (
      const k of [
        "requests_processed",
        "security_metrics",
        "performance_summary",
        "resource_status",
        "validation_config",
      ]
    ) assert.ok(k in st, k);
    assert.deepEqual(keys(st.validation_config), [
      "strict_mode",
      "max_string_length",
      "max_array_length",
      "max_object_depth",
      "max_param_count",
    ]);
    const ts = await result(d.socket, "test", "stats");
    assert.ok("security_metrics" in ts && "validation_config" in ts);
    const th = await result(d.socket, "test", "health");
    assert.deepEqual(keys(th).slice(0, 7), [
      "status",
      "daemon_version",
      "uptime",
      "active_connections",
      "loaded_modules",
      "resources",
      "stats",
    ]);
    const vs = await result(d.socket, "system", "validation_stats");
    assert.ok((vs.whitelist as Record<string, string[]>).xml?.includes("xml_in"));
    assert.equal(
      await result(d.socket, "test", "check_module").catch(() => "x"),
      false as unknown as Obj,
    );
  },
});

Deno.test({
  name: "cpan-bridge --health exits 0, 1, 2 and 3 for the four states",
  fn: async () => {
    const cases: Array<[Record<string, string>, number, RegExp]> = [
      [{}, 0, /^CPAN-BRIDGE OK - healthy \| requests=/],
      [
        { CPAN_BRIDGE_HEALTH_MEMORY_WARN_MB: "1" },
        1,
        /^CPAN-BRIDGE WARNING - degraded: Elevated memory usage/,
      ],
      [
        { CPAN_BRIDGE_HEALTH_MEMORY_WARN_MB: "1", CPAN_BRIDGE_HEALTH_MEMORY_CRIT_MB: "2" },
        2,
        /^CPAN-BRIDGE CRITICAL - unhealthy: High memory usage/,
      ],
    ];
    for (const [env, code, line] of cases) {
      await using d = await startTestDaemon(env);
      const r = await runCli(["--health", "--socket", d.socket]);
      assert.equal(r.code, code, r.stdout + r.stderr);
      assert.match(r.stdout, line);
      const j = await runCli(["--health", "--json", "--socket", d.socket]);
      assert.equal(JSON.parse(j.stdout).overall_status, ["healthy", "degraded", "unhealthy"][code]);
    }
    const gone = await runCli(["--health", "--socket", "/tmp/cpan-bridge-no-such.sock"]);
    assert.equal(gone.code, 3);
    assert.match(gone.stdout, /^CPAN-BRIDGE UNKNOWN - unreachable/);
  },
});

Deno.test({
  name: "cpan-bridge status, --metrics, call, ping, cleanup and stop talk to the socket",
  fn: async () => {
    const d = await spawnDaemon();
    const s = await runCli(["status", "--socket", d.socket]);
    assert.equal(s.code, 0);
    assert.match(s.stdout, /^Status: up \d+h \d+m \d+s \| Requests: \d+/);
    const m = await runCli(["--metrics", "--socket", d.socket]);
    assert.equal(JSON.parse(m.stdout).daemon_info.version, "1.0.0");
    const c = await runCli(["call", "test", "echo", '{"a":"é"}', "--socket", d.socket]);
    assert.deepEqual(JSON.parse(c.stdout).result, { a: "é" });
    assert.match((await runCli(["ping", "--socket", d.socket])).stdout, /^pong from/);
    assert.match(
      (await runCli(["cleanup", "--socket", d.socket])).stdout,
      /^Cleaned 0 stale connections/,
    );
    const stop = await runCli(["stop", "--socket", d.socket]);
    assert.match(stop.stdout, /Shutdown initiated/);
    assert.equal((await d.status).code, 0);
    await d.child.stderr.cancel();
    assert.equal((await runCli(["--help"])).code, 0);
    assert.match((await runCli(["--version"])).stdout, /^cpan-bridge \d+\.\d+\.\d+ \(Deno 2\.9\.6/);
    assert.equal((await runCli(["--bogus"])).code, 64);
  },
});

Deno.test({
  name: "system.shutdown is refused when the socket is shared with a group",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_SOCKET_MODE: "0660" });
    const r = await rawJson(d.socket, { module: "system", function: "shutdown", params: {} });
    assert.equal(r.success, false);
    assert.match(String(r.error), /^Shutdown not allowed: the socket is shared/);
    assert.equal((await rawJson(d.socket, { module: "test", function: "ping" })).success, true);
    assert.match(await d.readLog("cpan_security.log"), /shutdown_refused/);
  },
});

Deno.test({
  name: "cpan-bridge dashboard renders in a pseudo-terminal and exits on Ctrl+C",
  fn: async () => {
    await using d = await startTestDaemon();
    const [cmd, ...pre] = (await import("../_support/daemon.ts")).cliCommand();
    const shellCmd = [
      cmd,
      ...pre,
      "dashboard",
      "--interval",
      "0.2",
      "--count",
      "3",
      "--socket",
      d.socket,
    ].map((a) => `'${a}'`).join(" ");
    const out = await new Deno.Command("script", {
      args: ["-qfec", shellCmd, "/dev/null"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text);
    assert.match(text, /CPAN Bridge Daemon - Operational Dashboard/);
    // deno-lint-ignore no-control-regex
    assert.match(text, /\x1b\[1mPERFORMANCE/, "colour on a TTY");
    assert.match(text, /Refreshing every 0\.2 s; Ctrl\+C to quit/);
    const plain = await runCli(["dashboard", "--count", "1", "--socket", d.socket]);
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(plain.stdout, /\x1b\[/, "no colour when not a TTY");
    // Ctrl+C ends it cleanly
    const child = new Deno.Command(cmd!, {
      args: [...pre, "dashboard", "--interval", "10", "--socket", d.socket],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /Operational Dashboard/);
    child.kill("SIGINT");
    reader.releaseLock();
    const st = await child.output();
    assert.equal(st.code, 0);
  },
});

Deno.test({
  name: "process mode answers on stdin/stdout with the contract's exit codes",
  fn: async () => {
    const ok = await runCli(["process"], {
      stdin: '{"module":"test","function":"ping","params":{"a":1}}',
    });
    assert.equal(ok.code, 0);
    const r = JSON.parse(ok.stdout);
    assert.equal(r.success, true);
    assert.equal(r.result.message, "pong");
    assert.ok(ok.stdout.endsWith("\n"));
    const helper = await runCli(["/some/where/python_helpers/cpan_bridge.py"], {
      stdin: '{"module":"datetime_helper","function":"now","params":{}}',
    });
    assert.equal(helper.code, 0);
    assert.ok(JSON.parse(helper.stdout).result.result.epoch > 0);
    const bad = await runCli(["process"], { stdin: "{nope" });
    assert.equal(bad.code, 1);
    assert.match(JSON.parse(bad.stdout).error, /^Invalid JSON in request: Expecting property name/);
    const empty = await runCli(["process"], { stdin: "" });
    assert.equal(JSON.parse(empty.stdout).error, "Failed to read request: Empty input received");
  },
});
