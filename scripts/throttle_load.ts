/**
 * @module
 * The full throttling run of the issue "Helper calls are capped at 33 per second by default":
 * against a real daemon (the CLI entry point) in its default configuration, 20,000 sequential
 * `datetime_helper.now` calls from one client, then 32 clients × 2,000 calls at once, while a
 * monitor asks `system.health` every 100 ms. Prints the figures as JSON; exits 1 when a call
 * failed, a call waited on a limit, or `system.health` was not answered within 2 s.
 *
 *   deno run -A scripts/throttle_load.ts [sequential=20000] [clients=32] [calls=2000]
 */

import { spawnDaemon } from "../tests/_support/daemon.ts";
import { rawJson } from "../tests/_support/raw.ts";

const [seqN, clients, perClient] = [20_000, 32, 2_000].map((d, i) => Number(Deno.args[i] ?? d)) as [
  number,
  number,
  number,
];

const d = await spawnDaemon();
const call = (pid: number) =>
  rawJson(d.socket, {
    module: "datetime_helper",
    function: "now",
    params: {},
    request_id: `${Math.floor(Date.now() / 1000)}_${pid}_1`,
    client_version: "2.00",
  }).then((r) => r.success === true, () => false);

let stop = false;
const health = { answered: 0, failed: 0, slowestMs: 0 };
const monitor = (async () => {
  while (!stop) {
    const t0 = performance.now();
    const ok = await rawJson(d.socket, { module: "system", function: "health" }).then(
      (r) => r.success === true,
      () => false,
    );
    health.slowestMs = Math.max(health.slowestMs, Math.round(performance.now() - t0));
    if (ok) health.answered++;
    else health.failed++;
    await new Promise((r) => setTimeout(r, 100));
  }
})();

let t0 = performance.now();
let seqFailed = 0;
for (let i = 0; i < seqN; i++) if (!await call(40_000)) seqFailed++;
const seqSeconds = (performance.now() - t0) / 1000;

t0 = performance.now();
const okPer = await Promise.all(Array.from({ length: clients }, async (_, c) => {
  let ok = 0;
  for (let i = 0; i < perClient; i++) if (await call(41_000 + c)) ok++;
  return ok;
}));
const parSeconds = (performance.now() - t0) / 1000;
stop = true;
await monitor;

const m = (await rawJson(d.socket, { module: "system", function: "metrics" })).result as {
  helper_status: { throttled_calls: number; refused_busy: number };
};
await d.kill("SIGTERM");

const parFailed = clients * perClient - okPer.reduce((a, b) => a + b, 0);
const report = {
  sequential: {
    calls: seqN,
    failed: seqFailed,
    seconds: +seqSeconds.toFixed(1),
    per_second: Math.round(seqN / seqSeconds),
  },
  concurrent: {
    clients,
    calls: clients * perClient,
    failed: parFailed,
    seconds: +parSeconds.toFixed(1),
    per_second: Math.round((clients * perClient) / parSeconds),
  },
  throttled_calls: m.helper_status.throttled_calls,
  refused_busy: m.helper_status.refused_busy,
  system_health: health,
};
// deno-lint-ignore no-console
console.log(JSON.stringify(report, null, 2));
const bad = seqFailed + parFailed + report.throttled_calls + report.refused_busy + health.failed;
Deno.exit(bad === 0 && health.slowestMs < 2000 ? 0 : 1);
