/**
 * Robustness: clients that vanish mid-request or mid-reply, a thousand that connect and leave,
 * SIGTERM under load, and the log disk filling up mid-run. In each, the daemon keeps serving,
 * answers every request it accepted, and counts what it lost.
 */
import assert from "node:assert/strict";
import { spawnDaemon, startTestDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawJson, timedPing } from "../_support/raw.ts";

const enc = new TextEncoder();

function fdCount(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

Deno.test({
  name: "1,000 clients that connect and vanish, mid-request or mid-reply, leave nothing behind",
  fn: async () => {
    const d = await spawnDaemon({ env: { CPAN_BRIDGE_READ_TIMEOUT: "2" } });
    try {
      await timedPing(d.socket);
      const pid = d.child.pid;
      const baseline = fdCount(pid);
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 100 }, async (_, i) => {
          const c = await Deno.connect({ transport: "unix", path: d.socket });
          const kind = (batch * 100 + i) % 3;
          if (kind === 1) await c.write(enc.encode('{"module":"test","function":"ec')); // killed mid-request
          if (kind === 2) {
            // killed mid-reply: asks for a 3 MB reply and leaves without reading it
            await c.write(
              enc.encode(
                `{"module":"test","function":"echo","params":{"s":"${"z".repeat(3_000_000)}"}}`,
              ),
            );
            await c.closeWrite();
          }
          c.close();
        }));
        assert.ok(await timedPing(d.socket) < 2000, "pings answer while clients vanish");
      }
      // Every connection is closed again: the descriptor count returns to its baseline.
      await waitFor(() => fdCount(pid) <= baseline + 2, {
        what: `fd count back to ${baseline}`,
        deadlineMs: 20_000,
      });
      const r = await rawJson(d.socket, {
        module: "test",
        function: "echo",
        params: { still: "serving" },
      });
      assert.deepEqual(r.result, { still: "serving" });
    } finally {
      await d.kill();
    }
  },
});

Deno.test({
  name: "SIGTERM under load: every accepted request gets its whole reply",
  fn: async () => {
    const d = await spawnDaemon();
    let stop = false, answered = 0, refused = 0;
    const broken: string[] = [];
    const clients = Array.from({ length: 16 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        let conn: Deno.UnixConn;
        try {
          conn = await Deno.connect({ transport: "unix", path: d.socket });
        } catch {
          refused++; // the listener is closed: not an accepted request
          return;
        }
        try {
          const payload = { c, i, s: "x".repeat(50_000) };
          await conn.write(
            enc.encode(JSON.stringify({ module: "test", function: "echo", params: payload })),
          );
          await conn.closeWrite();
          const text = await new Response(conn.readable).text();
          const r = JSON.parse(text);
          if (r.success !== true || r.result.i !== i || r.result.s.length !== 50_000) {
            broken.push(text.slice(0, 100));
          } else answered++;
        } catch (err) {
          broken.push(String(err));
        }
      }
    });
    await waitFor(() => answered > 200, { what: "load running", deadlineMs: 20_000 });
    d.child.kill("SIGTERM");
    const status = await d.status;
    stop = true;
    await Promise.all(clients);
    await d.child.stderr.cancel();
    assert.equal(status.code, 0);
    assert.deepEqual(broken, [], "no accepted request lost its reply");
    assert.ok(answered > 200);
  },
});

Deno.test({
  name: "log disk full mid-run: requests are served, lost lines are counted in metrics and health",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const mnt = await Deno.makeTempDir({ prefix: "cpan-bridge-tmpfs-" });
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
    }).output();
    assert.ok(mount.success, `mount tmpfs: ${new TextDecoder().decode(mount.stderr)}`);
    try {
      await using d = await startTestDaemon({
        CPAN_BRIDGE_DAEMON_LOG: `${mnt}/cpan_daemon.log`,
        CPAN_BRIDGE_DEBUG: "1",
      });
      for (let i = 0; i < 400; i++) {
        const r = await rawJson(d.socket, {
          module: "test",
          function: "echo",
          params: { i, pad: "p".repeat(300) },
        });
        assert.equal(r.success, true, "served although the log disk is full");
      }
      await d.daemon.context.logs.flush();
      const m = (await rawJson(d.socket, { module: "system", function: "metrics" }))
        .result as Record<string, Record<string, unknown>>;
      const dropped = m.log_status!.dropped_lines as number;
      assert.ok(dropped > 0, "lost lines are counted");
      assert.match(
        String((m.log_status!.daemon_log as Record<string, unknown>).lastError),
        /No space left|ENOSPC|space/i,
      );
      const h = (await rawJson(d.socket, { module: "system", function: "health" }))
        .result as Record<string, unknown>;
      assert.equal(h.overall_status, "degraded");
      assert.equal((h.checks as Record<string, { status: string }>).logging!.status, "warn");
    } finally {
      await new Deno.Command("umount", { args: ["-l", mnt] }).output();
      await Deno.remove(mnt, { recursive: true }).catch(() => {});
    }
  },
});
