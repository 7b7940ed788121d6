/**
 * Lifecycle through the real entry point (contract §8, §12 D1): socket permissions, stale and
 * live sockets, SIGTERM with requests in flight, SIGHUP.
 */
import assert from "node:assert/strict";
import { runCli, spawnDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawCall, rawJson } from "../_support/raw.ts";

Deno.test("daemon creates its socket with mode 0600 and removes it on SIGTERM", async () => {
  const d = await spawnDaemon();
  assert.equal((await Deno.stat(d.socket)).mode! & 0o777, 0o600);
  const st = await d.kill("SIGTERM");
  assert.equal(st.code, 0);
  assert.throws(() => Deno.statSync(d.socket));
  const log = await Deno.readTextFile(`${d.dir}/cpan_daemon.log`);
  assert.match(log, /Received signal 15, initiating graceful shutdown/);
  assert.match(log, /Removed socket file/);
});

Deno.test("daemon --socket-mode 0660 --socket-group shares the socket with a group", async () => {
  const group = new TextDecoder().decode(
    (await new Deno.Command("id", { args: ["-gn"] }).output()).stdout,
  ).trim();
  const gid = Number(
    new TextDecoder().decode((await new Deno.Command("id", { args: ["-g"] }).output()).stdout)
      .trim(),
  );
  const d = await spawnDaemon({ args: ["--socket-mode", "0660", "--socket-group", group] });
  try {
    const st = await Deno.stat(d.socket);
    assert.equal(st.mode! & 0o777, 0o660);
    assert.equal(st.gid, gid);
  } finally {
    await d.kill();
  }
  const bad = await runCli([
    "daemon",
    "--socket",
    `${d.dir}/x.sock`,
    "--log-dir",
    d.dir,
    "--socket-group",
    "no-such-group-xyz",
  ]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Cannot use socket group 'no-such-group-xyz': no such group/);
});

Deno.test("daemon shuts down cleanly on SIGINT (Ctrl-C)", async () => {
  const d = await spawnDaemon();
  const st = await d.kill("SIGINT");
  assert.equal(st.code, 0);
  assert.throws(() => Deno.statSync(d.socket));
  assert.match(
    await Deno.readTextFile(`${d.dir}/cpan_daemon.log`),
    /Received signal 2, initiating graceful shutdown/,
  );
});

Deno.test("daemon removes a stale socket left by a killed daemon and serves at once", async () => {
  const first = await spawnDaemon();
  await first.kill("SIGKILL");
  assert.ok((await Deno.stat(first.socket)).isSocket, "SIGKILL leaves the socket behind");
  const second = await spawnDaemon({ dir: first.dir, socket: first.socket });
  try {
    const r = await rawJson(second.socket, { module: "test", function: "ping" });
    assert.equal(r.success, true);
  } finally {
    await second.kill();
  }
});

Deno.test("daemon refuses to take over a socket a live daemon answers on", async () => {
  const d = await spawnDaemon();
  try {
    const r = await runCli(["daemon", "--socket", d.socket, "--log-dir", d.dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /another cpan-bridge daemon is running there|holds .*\.lock/);
    // the first daemon still serves
    assert.equal((await rawJson(d.socket, { module: "test", function: "ping" })).success, true);
  } finally {
    await d.kill();
  }
});

Deno.test("daemon finishes in-flight requests on SIGTERM before exiting", async () => {
  const d = await spawnDaemon();
  const conn = await Deno.connect({ transport: "unix", path: d.socket });
  const enc = new TextEncoder();
  await conn.write(enc.encode('{"module":"test","function":"echo",'));
  // The request is in flight (half sent) when SIGTERM arrives.
  await waitFor(async () => {
    const r = await rawJson(d.socket, { module: "system", function: "connections" });
    return ((r.result as { total_connections: number }).total_connections) >= 2;
  }, { what: "in-flight connection registered" });
  d.child.kill("SIGTERM");
  await waitFor(
    async () =>
      (await Deno.readTextFile(`${d.dir}/cpan_daemon.log`)).includes(
        "Waiting for threads to finish",
      ),
    { what: "shutdown started" },
  );
  await conn.write(enc.encode('"params":{"still":"answered"}}'));
  await conn.closeWrite();
  const reply = JSON.parse(await new Response(conn.readable).text());
  assert.deepEqual(reply.result, { still: "answered" });
  assert.equal((await d.status).code, 0);
  await d.child.stderr.cancel();
});

Deno.test("daemon reopens its logs on SIGHUP and keeps serving", async () => {
  const d = await spawnDaemon();
  try {
    const log = `${d.dir}/cpan_daemon.log`;
    await Deno.rename(log, `${log}.old`);
    d.child.kill("SIGHUP");
    await waitFor(async () => {
      await rawCall(d.socket, '{"module":"nope_mod","function":"x"}');
      try {
        return (await Deno.readTextFile(log)).includes("Module not allowed: nope_mod");
      } catch {
        return false;
      }
    }, { what: "new log file written after SIGHUP" });
    assert.match(await Deno.readTextFile(`${log}.old`), /Received signal 1, reopening log files/);
  } finally {
    await d.kill();
  }
});

Deno.test("cpan-bridge daemon reports an unwritable log directory clearly", async () => {
  const r = await runCli([
    "daemon",
    "--socket",
    "/tmp/cb-never.sock",
    "--log-dir",
    "/nonexistent/dir",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Cannot open log file \/nonexistent\/dir\/cpan_daemon\.log/);
});
