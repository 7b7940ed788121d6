/**
 * Robustness: idle TCP clients on the HTTP monitor. The real daemon runs under
 * `prlimit --nofile=300` with `--http 127.0.0.1:PORT`; 400 silent connections used to exhaust its
 * descriptors and end the process through Deno.serve's unhandled accept rejection. Now the
 * listener caps its connections, drops silent clients at the header timeout, survives EMFILE, and
 * the daemon keeps serving its Unix socket throughout.
 */

import assert from "node:assert/strict";
import { cliCommand } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawJson } from "../_support/raw.ts";
import { probeDaemon } from "../../src/server/socket.ts";

const LIMIT = 300;
const CLIENTS = 400;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

async function spawnLimited(env: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-httpfd-" });
  const socket = `${dir}/bridge.sock`;
  const port = freePort();
  const [cmd, ...pre] = cliCommand();
  const child = new Deno.Command("prlimit", {
    args: [
      `--nofile=${LIMIT}`,
      cmd!,
      ...pre,
      "daemon",
      "--socket",
      socket,
      "--log-dir",
      dir,
      "--http",
      `127.0.0.1:${port}`,
    ],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stderr = new Response(child.stderr).text();
  await waitFor(async () => {
    if (exited) throw new Error(`daemon exited at start-up: ${await stderr}`);
    return await probeDaemon(socket, 1000);
  }, { what: "daemon up" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () => fetch(`${url}/healthz`).then((r) => (r.body?.cancel(), r.status === 200), () => false),
    { what: "HTTP monitor up" },
  );
  return { dir, socket, port, url, child, status, stderr, exited: () => exited };
}

/** Opens `n` idle TCP connections (connect only, never a byte sent). */
async function idleClients(port: number, n: number): Promise<Deno.TcpConn[]> {
  const held: Deno.TcpConn[] = [];
  for (let i = 0; i < n; i++) {
    held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  return held;
}

Deno.test({
  name: "HTTP monitor: 400 idle TCP clients under nofile=300 leave the daemon alive and serving",
  async fn() {
    // A cap above the descriptor limit: the accept loop itself meets EMFILE and must survive it.
    const d = await spawnLimited({
      CPAN_BRIDGE_HTTP_MAX_CONNECTIONS: "10000",
      CPAN_BRIDGE_HTTP_HEADER_TIMEOUT: "2",
    });
    const held = await idleClients(d.port, CLIENTS);
    try {
      // The Unix socket keeps answering while HTTP descriptors are exhausted.
      await waitFor(
        async () => {
          if (d.exited()) throw new Error(`daemon exited: ${await d.stderr}`);
          const r = await rawJson(d.socket, { module: "test", function: "ping", params: {} });
          return r.success === true;
        },
        { what: "a ping while the HTTP clients hold every descriptor", deadlineMs: 20_000 },
      );
      // Silent clients are dropped at the header timeout; the monitor then answers again.
      await waitFor(
        () =>
          fetch(`${d.url}/healthz`).then((r) => (r.body?.cancel(), r.status === 200), () => false),
        { what: "/healthz after the idle clients timed out", deadlineMs: 30_000 },
      );
      assert.ok(!d.exited(), "daemon alive after the flood");
      const log = await Deno.readTextFile(`${d.dir}/cpan_daemon.log`);
      assert.match(log, /HTTP monitor: error accepting connections: Too many open files/);
      // Normal service resumes once the silent clients are gone (while descriptors are short,
      // the Unix socket refuses with "Server busy", never hangs).
      await waitFor(
        async () => {
          const r = await rawJson(d.socket, { module: "test", function: "echo", params: { x: 1 } });
          if (r.success === false) assert.match(String(r.error), /^Server busy/);
          return r.success === true;
        },
        { what: "normal service after the flood", deadlineMs: 30_000 },
      );
    } finally {
      for (const c of held) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      try {
        d.child.kill("SIGTERM");
      } catch { /* exited */ }
      const s = await d.status;
      await Deno.remove(d.dir, { recursive: true }).catch(() => {});
      assert.equal(s.code, 0, `daemon exit code ${s.code}: ${await d.stderr}`);
    }
  },
});

Deno.test({
  name: "HTTP monitor: clients past CPAN_BRIDGE_HTTP_MAX_CONNECTIONS get a 503 at once",
  async fn() {
    const d = await spawnLimited({
      CPAN_BRIDGE_HTTP_MAX_CONNECTIONS: "8",
      CPAN_BRIDGE_HTTP_HEADER_TIMEOUT: "60",
    });
    const held = await idleClients(d.port, 8);
    try {
      // The server accepts in the background: poll until the 8 silent clients fill the cap.
      let busy: Response | undefined;
      await waitFor(
        async () => {
          const r = await fetch(`${d.url}/healthz`);
          if (r.status === 503) busy = r;
          else await r.body?.cancel();
          return busy !== undefined;
        },
        { what: "a 503 with the cap full", deadlineMs: 20_000 },
      );
      assert.match(await busy!.text(), /^Server busy: the HTTP monitor serves at most 8 /);
      for (const c of held.splice(0)) c.close();
      await waitFor(
        () =>
          fetch(`${d.url}/healthz`).then((r) => (r.body?.cancel(), r.status === 200), () => false),
        { what: "/healthz once the idle clients left" },
      );
      // A silent client is closed at the header timeout (here 60 s is too long to wait; the
      // first test covers it), and a request head over 16 KiB gets a 431.
      const c = await Deno.connect({ hostname: "127.0.0.1", port: d.port });
      const big = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ${"a".repeat(20_000)}\r\n\r\n`;
      c.write(new TextEncoder().encode(big)).catch(() => {});
      const reply = await new Response(c.readable).text();
      assert.match(reply, /^HTTP\/1\.1 431 /);
    } finally {
      for (const c of held) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      try {
        d.child.kill("SIGTERM");
      } catch { /* exited */ }
      const s = await d.status;
      await Deno.remove(d.dir, { recursive: true }).catch(() => {});
      assert.equal(s.code, 0);
    }
  },
});
