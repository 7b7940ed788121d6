/**
 * Past CPAN_BRIDGE_MAX_CONNECTIONS (contract §6.2, §6.3): helper calls wait (bounded) for a slot
 * and are then served, as clients of the Python daemon waited in the backlog; pings, test.* and
 * system.* are answered at once whatever the order of their keys; a request over the limit keeps
 * the configured size cap; a total request deadline frees slots held by trickling clients.
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawCall, rawJson, timedPing } from "../_support/raw.ts";
import { faultHelper } from "../_support/fault_helper.ts";

/** Every order of the items. */
function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])
  );
}

/** Opens `n` connections that send nothing, and waits until the daemon tracks them. */
async function hold(
  d: { socket: string; daemon: { context: { connections: { size: number } } } },
  n: number,
) {
  const held = await Promise.all(
    Array.from({ length: n }, () => Deno.connect({ transport: "unix", path: d.socket })),
  );
  await waitFor(() => d.daemon.context.connections.size >= n, {
    what: `${n} open connections`,
    deadlineMs: 5000,
  });
  return held;
}

Deno.test({
  name:
    "serveConnection() behaviour: over the limit, a ping in any of the 24 key orders is answered",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_MAX_CONNECTIONS: "2" });
    const held = await hold(d, 2);
    try {
      const values: Record<string, string> = {
        module: '"test"',
        function: '"ping"',
        params: "{}",
        timestamp: "1795882837.0340073",
      };
      const orders = permutations(Object.keys(values));
      assert.equal(orders.length, 24);
      for (const order of orders) {
        const body = `{${order.map((k) => `"${k}":${values[k]}`).join(",")}}`;
        const t0 = performance.now();
        const r = JSON.parse(await rawCall(d.socket, body, { timeoutMs: 2000 }));
        assert.equal(r.success, true, `${body}: ${JSON.stringify(r)}`);
        assert.equal(r.result.message, "pong", body);
        assert.ok(performance.now() - t0 < 2000, `${body} answered within the client's 2 s`);
      }
      // system.* is answered at once too, and a control request over 64 KiB keeps the size cap.
      const h = await rawJson(d.socket, { function: "health", module: "system" });
      assert.equal(h.success, true);
      const big = "x".repeat(200_000);
      const e = await rawJson(d.socket, { params: { big }, function: "echo", module: "test" });
      assert.equal(e.success, true, String(e.error));
      assert.equal((e.result as { big: string }).big, big);
    } finally {
      for (const c of held) c.close();
    }
  },
});

Deno.test({
  name:
    "serveConnection() behaviour: over the limit, a helper call waits for a slot, then is served",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_MAX_CONNECTIONS: "2" }, {
      helpers: [faultHelper],
    });
    const held = await hold(d, 2);
    // 100 KB of params: over the limit the configured 10 MiB cap applies, not 64 KiB.
    const value = "v".repeat(100_000);
    const call = rawJson(d.socket, {
      params: { ms: 1, value },
      function: "slow",
      module: "fault_helper",
      request_id: "1795882837_4242_7",
    });
    await waitFor(() => d.daemon.context.connections.queued === 1, {
      what: "the call to queue",
      deadlineMs: 5000,
    });
    await timedPing(d.socket); // still answered while a call waits
    held[0]!.close(); // frees a slot: the daemon answers it "Empty request received" and closes
    const r = await call;
    assert.equal(r.success, true, String(r.error));
    assert.equal((r.result as { value: string }).value, value);
    held[1]!.close();
  },
});

Deno.test({
  name: "serveConnection() behaviour: 150 concurrent clients against 4 slots are all served",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_MAX_CONNECTIONS: "4" }, {
      helpers: [faultHelper],
    });
    const client = async (i: number) => {
      // As CPANBridge.pm does: a ping (keys in some order), then the call.
      const keys = permutations(["module", "function", "params", "timestamp"])[i % 24]!;
      const v: Record<string, unknown> = {
        module: "test",
        function: "ping",
        params: {},
        timestamp: Date.now() / 1000,
      };
      const ping = JSON.parse(
        await rawCall(d.socket, JSON.stringify(Object.fromEntries(keys.map((k) => [k, v[k]])))),
      );
      const r = await rawJson(d.socket, {
        request_id: `1795882837_${10_000 + i}_1`,
        params: { ms: 20, value: i },
        module: "fault_helper",
        function: "slow",
      });
      return ping.success === true && r.success === true &&
        (r.result as { value: number }).value === i;
    };
    const ok = await Promise.all(Array.from({ length: 150 }, (_, i) => client(i)));
    assert.equal(ok.filter(Boolean).length, 150);
    assert.ok(d.daemon.context.stats.peakConnections > 4, "the limit was actually reached");
    assert.equal(d.daemon.context.stats.connectionsRejected, 0);
  },
});

Deno.test({
  name:
    "readRequest() behaviour: slowloris connections get the request deadline error and free their slots",
  fn: async () => {
    await using d = await startTestDaemon({
      CPAN_BRIDGE_MAX_CONNECTIONS: "3",
      CPAN_BRIDGE_REQUEST_DEADLINE: "1",
      CPAN_BRIDGE_CONNECTION_WAIT: "20",
    });
    const body = new TextEncoder().encode('{"module":"test","function":"ping","params":{}}');
    let trickling = true;
    const loris = async () => {
      const c = await Deno.connect({ transport: "unix", path: d.socket });
      // One byte every 100 ms: never idle long enough for CPAN_BRIDGE_READ_TIMEOUT (30 s).
      for (let i = 0; i < body.length - 1 && trickling; i++) {
        try {
          await c.write(body.subarray(i, i + 1));
        } catch {
          break; // the daemon replied and closed
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const reply = await new Response(c.readable).text().catch(() => "");
      try {
        c.close();
      } catch { /* closed */ }
      return reply;
    };
    const lorises = [loris(), loris(), loris()];
    await waitFor(() => d.daemon.context.connections.serving === 3, {
      what: "3 trickling clients",
      deadlineMs: 5000,
    });
    const t0 = performance.now();
    const r = await rawJson(d.socket, {
      module: "datetime_helper",
      function: "now",
      params: {},
      request_id: "1795882837_4343_1",
    });
    const waited = performance.now() - t0;
    trickling = false;
    assert.equal(r.success, true, String(r.error));
    assert.ok(waited < 10_000, `served after ${waited} ms: the deadline freed a slot`);
    for (const reply of await Promise.all(lorises)) {
      const e = JSON.parse(reply);
      assert.equal(e.success, false);
      assert.equal(
        e.error,
        "Request timeout - request not received in full within 1 s (CPAN_BRIDGE_REQUEST_DEADLINE)",
      );
      assert.equal(e.error_type, "ValueError");
    }
    assert.match(await d.readLog("cpan_security.log"), /"event_type": "request_deadline"/);
  },
});

Deno.test({
  name:
    "acceptLoop() behaviour: at MAX_CONNECTIONS + MAX_QUEUED_CONNECTIONS it stops accepting until one closes",
  fn: async () => {
    await using d = await startTestDaemon({
      CPAN_BRIDGE_MAX_CONNECTIONS: "1",
      CPAN_BRIDGE_MAX_QUEUED_CONNECTIONS: "1",
    });
    const held = await hold(d, 2);
    // The third client waits in the listen backlog: connected, but not accepted yet.
    const ping = rawJson(d.socket, { module: "test", function: "ping" });
    let answered = false;
    ping.then(() => (answered = true), () => {});
    // Not a wait for readiness: for 300 ms the third client must stay unaccepted.
    const until = Date.now() + 300;
    while (Date.now() < until) {
      assert.equal(answered, false, "accepted past the hard cap");
      assert.equal(d.daemon.context.connections.size, 2);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(await d.readLog(), /Connection limit reached \(1 served, 1 queued\)/);
    held[0]!.close();
    const r = await ping;
    assert.equal(r.success, true);
    held[1]!.close();
  },
});
