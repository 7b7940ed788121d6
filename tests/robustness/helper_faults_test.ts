/**
 * Robustness: helpers that throw, hang past CPAN_BRIDGE_HELPER_TIMEOUT, block their thread, or
 * return values JSON cannot carry. Each caller gets a clear error, other clients (pings and other
 * helper calls) are unaffected, and abandoned work is counted in system.metrics. Run on both
 * hosts: the helper Worker (production) and the in-process host (process mode, tests).
 */

import assert from "node:assert/strict";
import { startTestDaemon, type TestDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawJson, timedPing } from "../_support/raw.ts";
import { faultHelper } from "../_support/fault_helper.ts";

const FAULT_URL = new URL("../_support/fault_helper.ts", import.meta.url).href;
const PING_DEADLINE_MS = 2000; // the Perl client's own ping deadline (contract §2.7)

type Reply = Record<string, unknown>;
const call = (d: TestDaemon, f: string, params: unknown = {}): Promise<Reply> =>
  rawJson(d.socket, { module: "fault_helper", function: f, params, request_id: "1_1_1" });

async function metrics(d: TestDaemon) {
  const r = await rawJson(d.socket, { module: "system", function: "metrics" });
  return r.result as { helper_status: { abandoned_calls: number } };
}

const HOSTS: Array<[string, () => Promise<TestDaemon>]> = [
  ["worker", () =>
    startTestDaemon({ CPAN_BRIDGE_HELPER_TIMEOUT: "0.5" }, {
      helperModules: [FAULT_URL],
    })],
  ["in-process", () =>
    startTestDaemon({ CPAN_BRIDGE_HELPER_TIMEOUT: "0.5" }, {
      helpers: [faultHelper],
    })],
];

for (const [host, start] of HOSTS) {
  Deno.test({
    name: `${host} host: a throwing helper gets "Error in m.f: …" and the daemon serves on`,
    async fn() {
      await using d = await start();
      const r = await call(d, "throw_error", { message: "boom at row 7" });
      assert.equal(r.success, false);
      assert.equal(r.error, "Error in fault_helper.throw_error: boom at row 7");
      assert.equal(r.error_type, "RuntimeError");
      const ok = await call(d, "slow", { ms: 1, value: "after" });
      assert.deepEqual(ok.result, { success: true, value: "after" });
    },
  });

  Deno.test({
    name: `${host} host: a hung helper times out with TimeoutError, is counted, pings answer`,
    async fn() {
      await using d = await start();
      const t0 = performance.now();
      const hung = call(d, "hang");
      // While the call hangs, pings and another helper call are served.
      const ping = await timedPing(d.socket);
      assert.ok(ping < PING_DEADLINE_MS, `ping took ${ping} ms`);
      const other = await call(d, "slow", { ms: 1, value: 42 });
      assert.deepEqual(other.result, { success: true, value: 42 });
      const r = await hung;
      const took = performance.now() - t0;
      assert.equal(r.success, false);
      assert.equal(r.error_type, "TimeoutError");
      assert.equal(
        r.error,
        "Error in fault_helper.hang: timed out after 0.5 s (CPAN_BRIDGE_HELPER_TIMEOUT); the call was abandoned",
      );
      assert.ok(took >= 450 && took < 10_000, `timeout after ${took} ms`);
      assert.equal((await metrics(d)).helper_status.abandoned_calls, 1);
    },
  });

  Deno.test({
    name: `${host} host: circular results get a clear error; NaN becomes null; BigInt text`,
    async fn() {
      await using d = await start();
      const c = await call(d, "circular");
      assert.equal(c.success, false);
      assert.equal(c.error_type, "RuntimeError");
      assert.match(
        String(c.error),
        /^Error in fault_helper\.circular: returned a value that cannot be sent as JSON \(.*circular/i,
      );
      const n = await call(d, "nan");
      assert.deepEqual(n.result, { success: true, nan: null, inf: null, list: [null, null] });
      const b = await call(d, "bigint");
      assert.deepEqual(b.result, { success: true, big: "12345678901234567890" });
      assert.equal((await timedPing(d.socket)) < PING_DEADLINE_MS, true);
    },
  });
}

Deno.test({
  name: "worker host: a helper blocking its thread past the timeout is abandoned; pings answer",
  async fn() {
    await using d = await startTestDaemon({ CPAN_BRIDGE_HELPER_TIMEOUT: "0.5" }, {
      helperModules: [FAULT_URL],
    });
    const t0 = performance.now();
    const busy = call(d, "busy", { ms: 2500 });
    let worst = 0;
    // Pings keep answering while the worker thread spins (the main thread is free).
    for (let i = 0; i < 5; i++) worst = Math.max(worst, await timedPing(d.socket));
    const r = await busy;
    const took = performance.now() - t0;
    assert.equal(r.error_type, "TimeoutError");
    assert.ok(took < 2400, `caller answered after ${took} ms, not at the timeout`);
    assert.ok(worst < PING_DEADLINE_MS, `worst ping ${worst} ms`);
    // Once the spin ends, the worker serves again (calls queued behind it may time out too).
    await waitFor(
      async () => (await call(d, "slow", { ms: 1, value: "back" })).success === true,
      { what: "worker free again", deadlineMs: 15_000 },
    );
    assert.ok((await metrics(d)).helper_status.abandoned_calls >= 1);
  },
});
