/**
 * Replies to clients that do not read: a reply over CPAN_BRIDGE_MAX_REPLY_SIZE is replaced by a
 * clear error; a client that has not read its whole reply within CPAN_BRIDGE_WRITE_TIMEOUT is
 * disconnected, freeing its connection (and the reply's memory) long before the stale sweep.
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawJson, timedPing } from "../_support/raw.ts";
import { faultHelper } from "../_support/fault_helper.ts";

Deno.test({
  name:
    "serveConnection() behaviour: a reply over CPAN_BRIDGE_MAX_REPLY_SIZE becomes a clear error",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_MAX_REPLY_SIZE: "100000" }, {
      helpers: [faultHelper],
    });
    const value = "y".repeat(150_000);
    for (
      const req of [
        { module: "fault_helper", function: "slow", params: { ms: 1, value } },
        { module: "test", function: "echo", params: { value } },
      ]
    ) {
      const r = await rawJson(d.socket, req);
      assert.equal(r.success, false);
      assert.match(
        String(r.error),
        /^Reply too large: 150\d{3} bytes \(max: 100000, CPAN_BRIDGE_MAX_REPLY_SIZE\)$/,
      );
      assert.equal(r.error_type, "ValueError");
    }
    // Under the cap, the reply is sent as before.
    const ok = await rawJson(d.socket, { module: "test", function: "echo", params: { v: "z" } });
    assert.deepEqual(ok, { success: true, result: { v: "z" } });
  },
});

Deno.test({
  name:
    "serveConnection() behaviour: a client that does not read its reply is disconnected at CPAN_BRIDGE_WRITE_TIMEOUT",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_WRITE_TIMEOUT: "1" });
    // 4 slow readers of an 8 MB reply: far more than the socket buffers hold.
    const body = JSON.stringify({
      module: "test",
      function: "echo",
      params: { s: "r".repeat(8 * 1024 * 1024) },
    });
    const bytes = new TextEncoder().encode(body);
    const readers = await Promise.all([1, 2, 3, 4].map(async () => {
      const c = await Deno.connect({ transport: "unix", path: d.socket });
      let off = 0;
      while (off < bytes.length) off += await c.write(bytes.subarray(off));
      await c.closeWrite();
      return c; // never read
    }));
    const t0 = performance.now();
    await waitFor(
      () => d.daemon.context.connections.size === 0,
      { what: "the daemon to drop the readers", deadlineMs: 10_000 },
    );
    const took = performance.now() - t0;
    assert.ok(took < 8_000, `dropped after ${took} ms`);
    await timedPing(d.socket);
    // What the readers get is a cut reply followed by EOF, never a hang.
    for (const c of readers) {
      const got = await new Response(c.readable).arrayBuffer();
      assert.ok(got.byteLength < bytes.length, `${got.byteLength} bytes`);
    }
    // One security event per reader (the log is written after the connection is dropped).
    const events = async () =>
      (await d.readLog("cpan_security.log")).match(/"event_type": "write_timeout"/g)?.length ?? 0;
    await waitFor(async () => (await events()) >= 4, {
      what: "4 write_timeout events in cpan_security.log",
      deadlineMs: 10_000,
      logTail: () => d.readLog("cpan_security.log"),
    });
    assert.equal(await events(), 4);
    assert.match(
      await d.readLog(),
      /Reply not read within 1 s \(CPAN_BRIDGE_WRITE_TIMEOUT\): \d+ of \d+ bytes sent/,
    );
  },
});
