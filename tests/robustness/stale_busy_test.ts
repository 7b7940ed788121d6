/**
 * A helper call that runs longer than CPAN_BRIDGE_STALE_TIMEOUT is being served, not idle: the
 * janitor's stale sweep (and system.cleanup) must not close it, or the v2.00 client would run the
 * call again (a write executed three times). Found by review; the sweep closed it before.
 */

import assert from "node:assert/strict";
import { startTestDaemon } from "../_support/daemon.ts";
import { rawJson } from "../_support/raw.ts";
import { waitFor } from "../_support/wait.ts";

const FAULT_URL = new URL("../_support/fault_helper.ts", import.meta.url).href;

Deno.test("the stale sweep leaves a connection alone while its helper call runs", async () => {
  await using td = await startTestDaemon(
    { CPAN_BRIDGE_STALE_TIMEOUT: "0.2", CPAN_BRIDGE_CLEANUP_INTERVAL: "0.1" },
    { helperModules: [FAULT_URL] },
  );
  const slow = rawJson(td.socket, {
    module: "fault_helper",
    function: "slow",
    params: { ms: 1500, value: "done" },
    request_id: "1_1_1",
  });
  // While the call runs, and once its connection has been quiet past the 0.2 s stale timeout,
  // an explicit cleanup finds nothing stale.
  await waitFor(
    () =>
      td.daemon.context.connections.report(Date.now(), 200, 10).connections
        .some((c) => c.idle_time > 0.3),
    { what: "the call in flight past the stale timeout", deadlineMs: 10_000, logTail: td },
  );
  const cleanup = await rawJson(td.socket, { module: "system", function: "cleanup", params: {} });
  assert.equal((cleanup.result as { cleaned_connections: number }).cleaned_connections, 0);
  const r = await slow;
  assert.equal(r.success, true, JSON.stringify(r));
  assert.equal((r.result as { value: string } | undefined)?.value ?? r.value, "done");
  assert.doesNotMatch(await td.readLog(), /Cleaned up [1-9]\d* stale connections/);
});

Deno.test("a connection that never finishes its request is still stale and cleaned", async () => {
  await using td = await startTestDaemon({
    CPAN_BRIDGE_STALE_TIMEOUT: "0.2",
    CPAN_BRIDGE_CLEANUP_INTERVAL: "3600",
  });
  const conn = await Deno.connect({ transport: "unix", path: td.socket });
  try {
    await conn.write(new TextEncoder().encode('{"module":"test"'));
    const deadline = Date.now() + 10_000;
    let cleaned = 0;
    while (cleaned === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const c = await rawJson(td.socket, { module: "system", function: "cleanup", params: {} });
      cleaned = (c.result as { cleaned_connections: number }).cleaned_connections;
    }
    assert.equal(cleaned, 1);
  } finally {
    conn.close();
  }
});
