/**
 * Tests of `createMonitorApp()` called directly (`app.request()`, no listener) against a real
 * in-process daemon fed with socket traffic.
 */

import assert from "node:assert/strict";
import { createMonitorApp } from "../../../src/http/monitor_app.ts";
import type { DaemonContext } from "../../../src/daemon_context.ts";
import { startTestDaemon } from "../../_support/daemon.ts";
import { rawJson } from "../../_support/raw.ts";
import { promtoolCheck, sampleValue } from "./_prometheus.ts";

/** A view of the daemon with some properties replaced (the daemon itself is untouched). */
function withOverrides(d: DaemonContext, props: PropertyDescriptorMap): DaemonContext {
  return Object.create(d, props);
}

Deno.test("createMonitorApp() /metrics passes promtool check metrics after mixed traffic", async () => {
  await using td = await startTestDaemon();
  const app = createMonitorApp(td.daemon.context);
  await rawJson(td.socket, { module: "test", function: "ping", params: {}, request_id: "r1" });
  await rawJson(td.socket, { module: "no_such_module", function: "f", params: {} });
  await rawJson(td.socket, { module: "test", function: "nope", params: {} });
  // A function name that needs label escaping: quote, backslash, newline.
  td.daemon.context.perf.record(Date.now(), 'odd.f"\\\nx', 0.002, false, "synthetic");

  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const check = await promtoolCheck(text);
  assert.equal(check.code, 0, `promtool check metrics failed:\n${check.output}\n---\n${text}`);
  assert.equal(check.output.trim(), "", `promtool lint findings:\n${check.output}`);

  assert.match(
    text,
    /^cpan_bridge_build_info\{version="[^"]+",protocol_version="1\.0\.0",deno="[^"]+",.*\} 1$/m,
  );
  assert.match(
    text,
    /^cpan_bridge_request_errors_total\{module="odd",function="f\\"\\\\\\nx"\} 1$/m,
  );
  assert.match(
    text,
    /^cpan_bridge_security_events_total\{type="[a-z_]+",severity="[a-z]+"\} \d+$/m,
  );
  for (
    const family of [
      "cpan_bridge_connections_active",
      "cpan_bridge_connections_stale",
      "process_resident_memory_bytes",
      "process_cpu_seconds_total",
      "cpan_bridge_cpu_ratio",
      "cpan_bridge_log_dropped_lines_total",
      "cpan_bridge_uptime_seconds",
      "cpan_bridge_request_duration_seconds_count",
    ]
  ) {
    assert.ok(sampleValue(text, family) !== undefined, `${family} missing:\n${text}`);
  }
});

Deno.test("createMonitorApp() /metrics counters move after socket traffic", async () => {
  await using td = await startTestDaemon();
  const app = createMonitorApp(td.daemon.context);
  const before = await (await app.request("/metrics")).text();
  const echo = 'cpan_bridge_requests_total{module="test",function="echo"}';
  assert.equal(sampleValue(before, echo), undefined);

  for (let i = 0; i < 3; i++) {
    const r = await rawJson(td.socket, {
      module: "test",
      function: "echo",
      params: { i },
      request_id: `e${i}`,
    });
    assert.equal(r.success, true);
  }
  const bad = await rawJson(td.socket, { module: "test", function: "missing", params: {} });
  assert.equal(bad.success, false);

  const after = await (await app.request("/metrics")).text();
  assert.equal(sampleValue(after, echo), 3);
  assert.equal(
    sampleValue(after, 'cpan_bridge_request_errors_total{module="test",function="echo"}'),
    0,
  );
  const grow = (series: string, by: number) => {
    const a = sampleValue(before, series) ?? 0, b = sampleValue(after, series) ?? 0;
    assert.ok(b - a >= by, `${series}: ${a} -> ${b}, expected +${by}`);
  };
  grow("cpan_bridge_requests_processed_total", 3);
  grow("cpan_bridge_requests_failed_total", 1);
  grow("cpan_bridge_connections_total", 4);
  grow("cpan_bridge_request_duration_seconds_count", 4);
  grow('cpan_bridge_request_duration_seconds_bucket{le="+Inf"}', 4);
  // Buckets are cumulative and end at the count.
  const buckets = [
    ...after.matchAll(/^cpan_bridge_request_duration_seconds_bucket\{le="[^"]+"\} (\d+)$/gm),
  ]
    .map((m) => Number(m[1]));
  assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b));
  assert.equal(buckets.at(-1), sampleValue(after, "cpan_bridge_request_duration_seconds_count"));
});

Deno.test("createMonitorApp() /healthz is 200 when healthy, 503 when unhealthy", async () => {
  await using td = await startTestDaemon();
  const d = td.daemon.context;
  const ok = await createMonitorApp(d).request("/healthz");
  const body = await ok.json();
  assert.equal(ok.status, 200);
  assert.ok(["healthy", "degraded"].includes(body.overall_status), JSON.stringify(body));
  assert.ok(body.checks.daemon_running);
  assert.equal(body.success, undefined);

  // The socket check fails when the socket file is gone: unhealthy.
  const gone = withOverrides(d, { socketPath: { value: `${td.dir}/missing.sock` } });
  const bad = await createMonitorApp(gone).request("/healthz");
  const badBody = await bad.json();
  assert.equal(bad.status, 503);
  assert.equal(badBody.overall_status, "unhealthy");
  assert.ok(badBody.errors.includes("Socket file not accessible"));
});

Deno.test("createMonitorApp() /readyz is 200 once loaded, 503 while loading or stopping", async () => {
  await using td = await startTestDaemon();
  const d = td.daemon.context;
  const ready = await createMonitorApp(d).request("/readyz");
  assert.equal(ready.status, 200);
  assert.equal((await ready.json()).ready, true);

  const loadingHost = withOverrides(d.host as never, { state: { value: () => "loading" } });
  const loading = await createMonitorApp(withOverrides(d, { host: { value: loadingHost } }))
    .request("/readyz");
  assert.equal(loading.status, 503);
  assert.deepEqual(await loading.json(), {
    ready: false,
    reason: "helper modules are still loading",
  });

  const stopping = await createMonitorApp(withOverrides(d, { stopping: { value: true } }))
    .request("/readyz");
  assert.equal(stopping.status, 503);
  assert.equal((await stopping.json()).reason, "daemon is stopping");
  assert.match(
    await (await createMonitorApp(withOverrides(d, { stopping: { value: true } })).request(
      "/metrics",
    )).text(),
    /^cpan_bridge_ready 0$/m,
  );
});

Deno.test("createMonitorApp() /api/* return the built-ins without the ops-shim copies", async () => {
  await using td = await startTestDaemon();
  const app = createMonitorApp(td.daemon.context);
  for (const name of ["health", "metrics", "performance", "connections"]) {
    const wire = await rawJson(td.socket, {
      module: "system",
      function: name,
      params: {},
      request_id: `api-${name}`,
    });
    const builtin = wire.result as Record<string, unknown>;
    assert.equal(builtin.success, true, "ops shim is on by default");
    const res = await app.request(`/api/${name}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const body = await res.json();
    assert.equal(body.success, undefined, name);
    assert.equal(body.result, undefined, name);
    const { success: _s, result: _r, ...expectedKeys } = builtin;
    assert.deepEqual(Object.keys(body), Object.keys(expectedKeys), name);
  }
  const conns = await (await app.request("/api/connections")).json();
  assert.equal(typeof conns.total_connections, "number");
  assert.ok(Array.isArray(conns.connections));
});

Deno.test("createMonitorApp() answers unknown paths with 404 and other methods with 405", async () => {
  await using td = await startTestDaemon();
  const app = createMonitorApp(td.daemon.context);
  for (const path of ["/nope", "/api/shutdown", "/api/call", "/metrics/x", "/api"]) {
    const res = await app.request(path);
    assert.equal(res.status, 404, path);
    assert.match((await res.json()).error, /^No such path /);
  }
  for (
    const [method, path] of [["POST", "/metrics"], ["DELETE", "/"], ["PUT", "/api/health"]] as const
  ) {
    const res = await app.request(path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    assert.match((await res.json()).error, /read-only/);
  }
  const head = await app.request("/metrics", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  // Nothing above reached a helper or stopped the daemon.
  assert.equal(td.daemon.context.stopping, false);
});

Deno.test("createMonitorApp() serves a self-contained dashboard page", async () => {
  await using td = await startTestDaemon({ CPAN_BRIDGE_HEALTH_MEMORY_WARN_MB: "321" });
  const res = await createMonitorApp(td.daemon.context).request("/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'self'/);
  const html = await res.text();
  for (const id of ["performance", "resources", "connections", "security", "modules"]) {
    assert.match(html, new RegExp(`<section id="${id}"`), id);
  }
  assert.match(html, /<meta name="viewport" content="width=device-width/);
  assert.match(html, /"memoryWarnMb":321/);
  assert.doesNotMatch(html, /__THRESHOLDS__/);
  // No external resources: no absolute URLs in src/href, no imports.
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  assert.doesNotMatch(html, /@import|<link /);
});

Deno.test("createMonitorApp() with loopbackHostOnly refuses a foreign Host header", async () => {
  await using td = await startTestDaemon();
  const app = createMonitorApp(td.daemon.context, { loopbackHostOnly: true });
  const ok = await app.request("http://127.0.0.1:9/healthz");
  assert.notEqual(ok.status, 421);
  const local = await app.request("/readyz", { headers: { host: "localhost:8080" } });
  assert.equal(local.status, 200);
  const evil = await app.request("/metrics", { headers: { host: "evil.example:8080" } });
  assert.equal(evil.status, 421);
  assert.match((await evil.json()).error, /loopback only/);
});
