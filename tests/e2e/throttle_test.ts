/**
 * Throttling (contract §6.4, §12 D2): helper calls over the concurrency or per-minute limit wait
 * in a bounded queue, then get "Server busy"; pings and system.* are never throttled; nothing
 * sleeps the accept loop.
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_support/daemon.ts";
import { rawJson, timedPing } from "../_support/raw.ts";
import { faultHelper } from "../_support/fault_helper.ts";

const slow = (socket: string, ms: number) =>
  rawJson(socket, { module: "fault_helper", function: "slow", params: { ms, value: ms } });

Deno.test({
  name:
    "a helper call over the concurrency limit waits, then gets Server busy; pings and health answer",
  fn: async () => {
    await using d = await startTestDaemon({
      CPAN_BRIDGE_MAX_CONCURRENT_REQUESTS: "1",
      CPAN_BRIDGE_THROTTLE_WAIT: "0.3",
    }, { helpers: [faultHelper] });
    const long = slow(d.socket, 1500);
    // While the slot is taken: the control plane answers at once.
    const pingMs = await timedPing(d.socket);
    assert.ok(pingMs < 1000, `ping took ${pingMs} ms`);
    const h = await rawJson(d.socket, { module: "system", function: "health" });
    assert.equal(h.success, true);
    const t0 = performance.now();
    const busy = await slow(d.socket, 1);
    const waited = performance.now() - t0;
    assert.equal(busy.success, false);
    assert.match(
      String(busy.error),
      /^Server busy: 1 helper calls running \(CPAN_BRIDGE_MAX_CONCURRENT_REQUESTS=1\); retry shortly$/,
    );
    assert.equal(busy.error_type, "BusyError");
    assert.ok(waited >= 250, `refused after ${waited} ms, before the bounded wait`);
    assert.deepEqual(((await long).result as Record<string, unknown>).value, 1500);
    // The slot is free again.
    assert.equal((await slow(d.socket, 1)).success, true);
    const m = (await rawJson(d.socket, { module: "system", function: "metrics" })).result as Record<
      string,
      Record<string, number>
    >;
    assert.equal(m.helper_status!.refused_busy, 1);
    assert.match(await d.readLog("cpan_security.log"), /"event_type": "throttled"/);
  },
});

Deno.test({
  name: "a queued helper call runs as soon as the slot frees within the wait",
  fn: async () => {
    await using d = await startTestDaemon({
      CPAN_BRIDGE_MAX_CONCURRENT_REQUESTS: "1",
      CPAN_BRIDGE_THROTTLE_WAIT: "10",
    }, { helpers: [faultHelper] });
    const [a, b] = await Promise.all([slow(d.socket, 200), slow(d.socket, 1)]);
    assert.equal(a.success, true);
    assert.equal(b.success, true);
    const m = (await rawJson(d.socket, { module: "system", function: "metrics" })).result as Record<
      string,
      Record<string, number>
    >;
    assert.equal(m.helper_status!.throttled_calls, 1);
  },
});

Deno.test({
  name: "helper calls over the per-minute budget get Server busy; pings are not counted",
  fn: async () => {
    await using d = await startTestDaemon({
      CPAN_BRIDGE_MAX_REQUESTS_PER_MINUTE: "3",
      CPAN_BRIDGE_THROTTLE_PER_MINUTE: "3",
      CPAN_BRIDGE_THROTTLE_WAIT: "0.2",
    }, { helpers: [faultHelper] });
    for (let i = 0; i < 10; i++) await timedPing(d.socket);
    for (let i = 0; i < 3; i++) assert.equal((await slow(d.socket, 1)).success, true);
    const r = await slow(d.socket, 1);
    assert.equal(r.success, false);
    assert.match(
      String(r.error),
      /^Server busy: more than 3 helper calls in the last minute \(CPAN_BRIDGE_THROTTLE_PER_MINUTE\)/,
    );
    const res =
      ((await rawJson(d.socket, { module: "system", function: "metrics" })).result as Record<
        string,
        Record<string, unknown>
      >).resource_status!;
    assert.equal(res.requests_per_minute, 3);
    assert.deepEqual(res.violations, []);
    assert.deepEqual(res.warnings, ["Request rate 3/min approaching limit 3/min"]);
  },
});
