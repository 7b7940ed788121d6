/**
 * Tests of `startMonitorServer()` through real listeners (loopback TCP and a Unix socket), and of
 * the `--http` flag / `CPAN_BRIDGE_HTTP` through the real CLI.
 */

import assert from "node:assert/strict";
import { parseListen, startMonitorServer } from "../../../src/http/server.ts";
import { StartupError } from "../../../src/errors.ts";
import { spawnDaemon, startTestDaemon } from "../../_support/daemon.ts";
import { waitFor } from "../../_support/wait.ts";
import { rawJson } from "../../_support/raw.ts";
import { promtoolCheck, sampleValue } from "./_prometheus.ts";

/** GET over a Unix socket; returns status and body. */
async function unixGet(path: string, url: string): Promise<{ status: number; body: string }> {
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
  try {
    const res = await fetch(`http://localhost${url}`, { client });
    return { status: res.status, body: await res.text() };
  } finally {
    client.close();
  }
}

/** True when a TCP connect to the address is refused. */
async function refused(address: string): Promise<boolean> {
  const u = new URL(address);
  try {
    const c = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
    c.close();
    return false;
  } catch (err) {
    return err instanceof Deno.errors.ConnectionRefused;
  }
}

Deno.test("parseListen() reads PORT, HOST:PORT, [v6]:PORT and absolute socket paths", () => {
  assert.deepEqual(parseListen("9187"), { transport: "tcp", hostname: "127.0.0.1", port: 9187 });
  assert.deepEqual(parseListen("0.0.0.0:80"), { transport: "tcp", hostname: "0.0.0.0", port: 80 });
  assert.deepEqual(parseListen("[::1]:0"), { transport: "tcp", hostname: "::1", port: 0 });
  assert.deepEqual(parseListen("/run/cb/http.sock"), {
    transport: "unix",
    path: "/run/cb/http.sock",
  });
  for (const bad of ["", "http.sock", "./http.sock", "host:", "1:2:3", "70000", "host:port"]) {
    assert.throws(() => parseListen(bad), StartupError, bad);
  }
  assert.throws(() => parseListen("run/http.sock"), /a socket path must be absolute/);
});

Deno.test("startMonitorServer() serves on 127.0.0.1:0 and stops listening on close()", async () => {
  await using td = await startTestDaemon();
  const http = await startMonitorServer(td.daemon.context, "127.0.0.1:0");
  let closed = false;
  try {
    assert.match(http.address, /^http:\/\/127\.0\.0\.1:\d+$/);
    const metrics = await fetch(`${http.address}/metrics`);
    const text = await metrics.text();
    assert.equal(metrics.status, 200);
    assert.equal(metrics.headers.get("cache-control"), "no-store");
    assert.equal((await promtoolCheck(text)).code, 0);

    await rawJson(td.socket, { module: "test", function: "echo", params: {}, request_id: "x" });
    const after = await (await fetch(`${http.address}/metrics`)).text();
    assert.equal(
      sampleValue(after, 'cpan_bridge_requests_total{module="test",function="echo"}'),
      1,
    );
    const post = await fetch(`${http.address}/metrics`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
    // Browsers send the Host they connected to; a rebinding page would send its own name.
    const port = new URL(http.address).port;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await conn.write(
      new TextEncoder().encode(
        "GET /metrics HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n",
      ),
    );
    const reply = await new Response(conn.readable).text();
    assert.match(reply, /^HTTP\/1\.1 421 /);

    await waitFor(
      async () => (await td.readLog()).includes(`HTTP monitor listening on ${http.address}`),
      { what: "the listening line in the daemon log", deadlineMs: 5000 },
    );
    await http.close();
    closed = true;
    assert.ok(await refused(http.address), "port still open after close()");
  } finally {
    if (!closed) await http.close();
  }
});

Deno.test("startMonitorServer() on a Unix socket copies the daemon socket's mode", async () => {
  await using td = await startTestDaemon({ CPAN_BRIDGE_SOCKET_MODE: "0660" });
  const path = `${td.dir}/http.sock`;
  // A dead socket file left by a crash is replaced. (Deno unlinks a socket on close(), so the
  // listener is moved away from its path first.)
  const dead = Deno.listen({ transport: "unix", path: `${path}.tmp` });
  await Deno.rename(`${path}.tmp`, path);
  dead.close();
  assert.ok((await Deno.lstat(path)).isSocket);
  const http = await startMonitorServer(td.daemon.context, path);
  try {
    assert.equal(http.address, `unix:${path}`);
    const st = await Deno.lstat(path);
    assert.ok(st.isSocket);
    assert.equal(st.mode! & 0o777, 0o660);
    const ready = await unixGet(path, "/readyz");
    assert.equal(ready.status, 200);
    assert.equal(JSON.parse(ready.body).ready, true);
    const health = await unixGet(path, "/api/health");
    assert.equal(health.status, 200);
    assert.ok(["healthy", "degraded"].includes(JSON.parse(health.body).overall_status));
    // A second listener on a live path is refused with a clear message.
    await assert.rejects(
      () => startMonitorServer(td.daemon.context, path),
      (err) => err instanceof StartupError && /another server answers there/.test(err.message),
    );
  } finally {
    await http.close();
  }
  await assert.rejects(() => Deno.lstat(path), Deno.errors.NotFound, "socket file left behind");
  // A path that is not a socket is never removed.
  await Deno.writeTextFile(path, "data");
  await assert.rejects(
    () => startMonitorServer(td.daemon.context, path),
    /exists and is not a socket/,
  );
  assert.equal(await Deno.readTextFile(path), "data");
});

Deno.test("startMonitorServer() refuses a port in use with a StartupError", async () => {
  await using td = await startTestDaemon();
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await assert.rejects(
      () => startMonitorServer(td.daemon.context, `127.0.0.1:${busy.addr.port}`),
      (err) => err instanceof StartupError && /choose another port/.test(err.message),
    );
  } finally {
    busy.close();
  }
});

Deno.test("cpan-bridge daemon --http 127.0.0.1:0 logs its address and serves /metrics", async () => {
  const d = await spawnDaemon({ args: ["--http", "127.0.0.1:0"] });
  let address = "";
  try {
    await waitFor(async () => {
      const log = await Deno.readTextFile(`${d.dir}/cpan_daemon.log`).catch(() => "");
      address = /HTTP monitor listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)?.[1] ?? "";
      return address !== "";
    }, { what: "HTTP monitor line in the daemon log" });
    const before = await (await fetch(`${address}/metrics`)).text();
    const r = await rawJson(d.socket, {
      module: "test",
      function: "echo",
      params: {},
      request_id: "1",
    });
    assert.equal(r.success, true);
    const after = await (await fetch(`${address}/metrics`)).text();
    assert.equal((await promtoolCheck(after)).code, 0);
    const series = 'cpan_bridge_requests_total{module="test",function="echo"}';
    assert.equal((sampleValue(after, series) ?? 0) - (sampleValue(before, series) ?? 0), 1);
    const readyz = await fetch(`${address}/readyz`);
    assert.equal(readyz.status, 200);
    await readyz.body?.cancel();
  } finally {
    const status = await d.kill("SIGTERM");
    assert.equal(status.code, 0);
  }
  assert.ok(await refused(address), "HTTP port still open after the daemon stopped");
  await Deno.remove(d.dir, { recursive: true });
});

Deno.test("CPAN_BRIDGE_HTTP=/abs/path serves the monitor on a Unix socket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-http-" });
  const path = `${dir}/monitor.sock`;
  const d = await spawnDaemon({ dir, env: { CPAN_BRIDGE_HTTP: path } });
  try {
    await waitFor(
      () => Deno.lstat(path).then((s) => s.isSocket === true, () => false),
      { what: "HTTP monitor socket" },
    );
    const res = await unixGet(path, "/healthz");
    assert.equal(res.status, 200);
    assert.ok(JSON.parse(res.body).checks);
  } finally {
    assert.equal((await d.kill("SIGTERM")).code, 0);
  }
  await assert.rejects(() => Deno.lstat(path), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cpan-bridge daemon without --http opens no HTTP listener", async () => {
  const d = await spawnDaemon({ env: { CPAN_BRIDGE_HTTP: "" } });
  const ping = await rawJson(d.socket, { module: "test", function: "ping", params: {} });
  assert.equal(ping.success, true);
  assert.equal((await d.kill("SIGTERM")).code, 0);
  const log = await Deno.readTextFile(`${d.dir}/cpan_daemon.log`);
  assert.match(log, /Daemon shutdown complete/);
  assert.doesNotMatch(log, /HTTP monitor/);
  await Deno.remove(d.dir, { recursive: true });
});

Deno.test("cpan-bridge daemon --http with a bad address exits 1 and says why", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-http-" });
  const { runCli } = await import("../../_support/daemon.ts");
  const out = await runCli([
    "daemon",
    "--socket",
    `${dir}/bridge.sock`,
    "--log-dir",
    dir,
    "--http",
    "relative/http.sock",
  ]);
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, /Cannot use --http "relative\/http\.sock".*must be absolute/);
  await assert.rejects(() => Deno.lstat(`${dir}/bridge.sock`), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});
