/**
 * Serving slots of `ConnectionTracker` (ops/connections.ts), which server/connection.ts and the
 * accept loop use for CPAN_BRIDGE_MAX_CONNECTIONS and CPAN_BRIDGE_MAX_QUEUED_CONNECTIONS.
 */
import assert from "node:assert/strict";
import { ConnectionTracker } from "../../../src/ops/connections.ts";

Deno.test("ConnectionTracker.waitForSlot() behaviour: first come first served, bounded", async () => {
  const t = new ConnectionTracker();
  const [a, b, c, e] = [1, 2, 3, 4].map((i) => t.open(i, () => {}));
  assert.equal(t.trySlot(a!, 1), true);
  assert.equal(t.trySlot(b!, 1), false);
  const wb = t.waitForSlot(b!, 1, 10_000);
  const wc = t.waitForSlot(c!, 1, 10_000);
  assert.equal(t.queued, 2);
  t.remove(a!);
  assert.equal(await wb, true);
  assert.equal(t.serving, 1);
  t.yieldSlot(b!); // b waits on the throttle: c gets the slot, b keeps being served
  assert.equal(await wc, true);
  assert.equal(t.size, 3);
  const t0 = performance.now();
  assert.equal(await t.waitForSlot(e!, 1, 50), false);
  assert.ok(performance.now() - t0 >= 40);
  assert.equal(t.queued, 0);
});

Deno.test("ConnectionTracker.whenBelow() behaviour: resolves when a connection goes", async () => {
  const t = new ConnectionTracker();
  const a = t.open(1, () => {});
  t.open(2, () => {});
  let resolved = false;
  const p = t.whenBelow(2).then(() => (resolved = true));
  await Promise.resolve();
  assert.equal(resolved, false);
  t.remove(a);
  await p;
  assert.equal(resolved, true);
  await t.whenBelow(2); // already below: at once
});
