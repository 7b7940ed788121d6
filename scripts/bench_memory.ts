/**
 * Memory soak: RSS of the daemon while it serves a bounded number of requests (default
 * 1,000,000: pings, datetime_helper.now and system.health from 8 Perl client processes, as
 * CPANBridge.pm sends them). Reports the idle RSS (5 s after start, before any request), the RSS
 * after a warm-up and after every tenth, the growth over each, and the RSS at rest 10, 30 and 90 s
 * after the load.
 *
 *   deno run -A scripts/bench_memory.ts [--requests 1000000]
 *
 * CPAN_BRIDGE_BIN=dist/cpan-bridge runs the single binary's daemon (else `deno run main.ts`).
 */

// deno-lint-ignore-file no-console -- a command-line report

import { parseArgs } from "node:util";
import { ROOT } from "../tests/_support/daemon.ts";
import { startBenchDaemon } from "./bench/bench_daemon.ts";

const { values } = parseArgs({ args: Deno.args, options: { requests: { type: "string" } } });
const total = Number(values.requests ?? 1_000_000);
const bd = await startBenchDaemon("cpan-bridge-mem-", {});
const { sock } = bd;
const rssMb = () => bd.rssMb();

/** Sends `n` requests, a third each of ping, datetime_helper.now and system.health. */
async function load(n: number): Promise<number> {
  const per = Math.ceil(n / 3 / 8);
  let errors = 0;
  for (const [m, f] of [["test", "ping"], ["datetime_helper", "now"], ["system", "health"]]) {
    const out = await new Deno.Command("perl", {
      args: [`${ROOT}/scripts/bench/driver.pl`, sock, m!, f!, "8", String(per)],
      stdout: "piped",
    }).output();
    errors += JSON.parse(new TextDecoder().decode(out.stdout)).errors;
  }
  return errors;
}

await new Promise((r) => setTimeout(r, 5000));
const idle = rssMb();
const t0 = performance.now();
await load(100_000); // warm-up: JIT, helper loaded, heap sized
const base = rssMb();
console.log(`# Memory soak: ${total} requests after a 100,000-request warm-up\n`);
console.log("| requests served | RSS MB | change MB | errors |");
console.log("|---|---|---|---|");
console.log(`| idle, before the warm-up | ${idle.toFixed(1)} | | |`);
console.log(`| 0 (after warm-up) | ${base.toFixed(1)} | 0.0 | 0 |`);
let served = 0;
let peak = base;
while (served < total) {
  const step = Math.min(total / 10, total - served);
  const errors = await load(step);
  served += step;
  const rss = rssMb();
  peak = Math.max(peak, rss);
  console.log(`| ${served} | ${rss.toFixed(1)} | ${(rss - base).toFixed(1)} | ${errors} |`);
}
console.log(
  `\nGrowth after ${served} requests: ${(rssMb() - base).toFixed(1)} MB over the warmed-up ` +
    `daemon, ${(rssMb() - idle).toFixed(1)} MB over idle (peak ${peak.toFixed(1)} MB); ${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s`,
);
// At rest: V8 gives back the heap it sized for the load some seconds after the load stops (its
// memory reducer, the heap trim), and idle helper workers stop after CPAN_BRIDGE_HELPER_WORKER_IDLE.
let rested = 0;
for (const s of [10, 30, 90]) {
  await new Promise((r) => setTimeout(r, (s - rested) * 1000));
  rested = s;
  const rss = rssMb();
  console.log(
    `At rest, ${s} s after the load: ${rss.toFixed(1)} MB (${(rss - idle).toFixed(1)} over idle)`,
  );
}
await bd.stop();
