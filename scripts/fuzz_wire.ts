/**
 * Wire fuzzing against the real daemon (`scripts/cpan-bridge daemon`, production flags): seeded,
 * reproducible hostile requests (scripts/robustness_cases.ts) while another client pings. Fails
 * if any case gets no JSON envelope, a ping fails or takes 2 s or more, or the daemon dies or
 * writes to stderr. Not part of the test suite.
 *
 *   deno run -A scripts/fuzz_wire.ts [--cases 20000] [--seed 1] [--concurrency 8] [--out f.json]
 */

import { parseArgs } from "node:util";
import { fuzz, startPinger } from "./robustness_cases.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "20000" },
    seed: { type: "string", default: "1" },
    concurrency: { type: "string", default: "8" },
    out: { type: "string" },
  },
});

const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-fuzz-" });
const socket = `${dir}/bridge.sock`;
const child = new Deno.Command(`${ROOT}/scripts/cpan-bridge`, {
  args: ["daemon", "--socket", socket, "--log-dir", dir],
  env: { CPAN_BRIDGE_READ_TIMEOUT: "5" },
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
let exited = false;
child.status.then(() => (exited = true));
for (let i = 0; i < 600; i++) {
  try {
    (await Deno.connect({ transport: "unix", path: socket })).close();
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pinger = startPinger(socket, 100);
const t0 = performance.now();
const tally = await fuzz(
  socket,
  Number(values.seed),
  Number(values.cases),
  Number(values.concurrency),
);
const seconds = (performance.now() - t0) / 1000;
const pings = await pinger.stop();
const rssKb = Number(
  /VmRSS:\s+(\d+)/.exec(await Deno.readTextFile(`/proc/${child.pid}/status`))?.[1] ?? 0,
);
const alive = !exited;
child.kill("SIGTERM");
const status = await child.status;
const stderr = await new Response(child.stderr).text();
await Deno.remove(dir, { recursive: true }).catch(() => {});

const report = {
  seed: Number(values.seed),
  cases: tally.cases,
  seconds: Math.round(seconds * 10) / 10,
  replies: tally.replies,
  successes: tally.successes,
  no_reply_expected: tally.noReplyExpected,
  problems: tally.problems.length,
  distinct_error_classes: tally.classes.size,
  pings: pings.count,
  ping_failures: pings.failures.length,
  worst_ping_ms: Math.round(pings.worstMs),
  daemon_alive_at_end: alive,
  daemon_exit_code: status.code,
  daemon_stderr: stderr.slice(0, 2000),
  daemon_rss_mb_at_end: Math.round(rssKb / 102.4) / 10,
  classes: Object.fromEntries([...tally.classes].sort((a, b) => b[1] - a[1])),
  kinds: Object.fromEntries(tally.kinds),
  first_problems: tally.problems.slice(0, 10),
};
// deno-lint-ignore no-console
console.log(JSON.stringify(report, null, 2));
if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(report, null, 2));
const ok = alive && status.code === 0 && !stderr.trim() && tally.problems.length === 0 &&
  pings.failures.length === 0 && pings.worstMs < 2000;
Deno.exit(ok ? 0 : 1);
