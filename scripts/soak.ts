/**
 * Soak: runs the real daemon (`scripts/cpan-bridge daemon`, production flags) at a steady load
 * with periodic bad input, and samples its RSS, descriptors and ping latency, to show memory
 * stays flat. Not part of the test suite.
 *
 *   deno run -A scripts/soak.ts --minutes 30 [--rate 40] [--out soak.json]
 *
 * Prints one CSV line per sample (every 10 s) and a summary; --out writes both as JSON.
 */

import { parseArgs } from "node:util";
import { fuzz, rng, startPinger } from "./robustness_cases.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    rate: { type: "string", default: "40" },
    "sample-seconds": { type: "string", default: "10" },
    "bad-every": { type: "string", default: "5" },
    seed: { type: "string", default: "11" },
    out: { type: "string" },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const sampleMs = Number(values["sample-seconds"]) * 1000;
const badEveryMs = Number(values["bad-every"]) * 1000;

const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-soak-" });
const socket = `${dir}/bridge.sock`;
const child = new Deno.Command(`${ROOT}/scripts/cpan-bridge`, {
  args: ["daemon", "--socket", socket, "--log-dir", dir],
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();

async function waitUp(): Promise<void> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    try {
      const c = await Deno.connect({ transport: "unix", path: socket });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("daemon did not start within 60 s");
}
await waitUp();
// The launcher execs deno, so the child PID is the daemon's.
const pid = child.pid;

const rssKb = async () => {
  const s = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
};
const fds = () => [...Deno.readDirSync(`/proc/${pid}/fd`)].length;

const enc = new TextEncoder();
const GOOD = [
  '{"module":"test","function":"ping","params":{}}',
  '{"module":"test","function":"echo","params":{"rows":[1,2,3],"text":"café ☺"}}',
  '{"module":"datetime_helper","function":"now","params":{},"request_id":"1_1_1","client_version":"2.00"}',
  '{"module":"xml_helper","function":"xml_out","params":{"data":{"row":[{"id":1,"name":"a & b"},{"id":2}]}},"request_id":"1_1_2"}',
  '{"module":"system","function":"health"}',
].map((s) => enc.encode(s));

const counts = { good: 0, goodFailed: 0, bad: 0, badProblems: 0, errors: [] as string[] };
let running = true;

async function oneGood(body: Uint8Array): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    let off = 0;
    while (off < body.length) off += await conn.write(body.subarray(off));
    await conn.closeWrite();
    const text = await new Response(conn.readable).text();
    const v = JSON.parse(text);
    counts.good++;
    if (v.success !== true) {
      counts.goodFailed++;
      if (counts.errors.length < 20) counts.errors.push(text.slice(0, 200));
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

// Steady load: `rate` requests per second, spread over 8 clients.
const loaders = Array.from({ length: 8 }, async (_, k) => {
  const every = 8000 / rate;
  let next = performance.now() + k * (every / 8);
  let i = k;
  while (running) {
    await oneGood(GOOD[i++ % GOOD.length]!).catch((e) => {
      counts.goodFailed++;
      if (counts.errors.length < 20) counts.errors.push(String(e));
    });
    next += every;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
});

// Periodic bad input: 25 fuzz cases every few seconds, a new seed each round.
const seeds = rng(Number(values.seed));
const badLoop = (async () => {
  while (running) {
    const t = await fuzz(socket, Math.floor(seeds() * 2 ** 31), 25, 4);
    counts.bad += t.cases;
    counts.badProblems += t.problems.length;
    for (const p of t.problems.slice(0, 2)) {
      if (counts.errors.length < 20) counts.errors.push(JSON.stringify(p).slice(0, 300));
    }
    await new Promise((r) => setTimeout(r, badEveryMs));
  }
})();

const pinger = startPinger(socket, 500);
const samples: Array<
  { t_s: number; rss_mb: number; fds: number; good: number; bad: number; worst_ping_ms: number }
> = [];
const t0 = performance.now();
const end = t0 + minutes * 60_000;
// deno-lint-ignore no-console
console.log("t_s,rss_mb,fds,good_requests,bad_cases,worst_ping_ms");
let lastWorst = 0;
while (performance.now() < end) {
  await new Promise((r) => setTimeout(r, Math.min(sampleMs, end - performance.now())));
  const s = {
    t_s: Math.round((performance.now() - t0) / 1000),
    rss_mb: Math.round((await rssKb()) / 102.4) / 10,
    fds: fds(),
    good: counts.good,
    bad: counts.bad,
    worst_ping_ms: Math.round(pinger.stats.worstMs),
  };
  samples.push(s);
  // deno-lint-ignore no-console
  console.log(Object.values(s).join(","));
  lastWorst = s.worst_ping_ms;
}
running = false;
await Promise.all(loaders);
await badLoop;
const pings = await pinger.stop();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const window = Math.max(1, Math.floor(samples.length / 6));
const first = median(samples.slice(0, window).map((s) => s.rss_mb));
const last = median(samples.slice(-window).map((s) => s.rss_mb));
const summary = {
  minutes,
  rate_per_s: rate,
  good_requests: counts.good,
  good_failed: counts.goodFailed,
  bad_cases: counts.bad,
  bad_problems: counts.badProblems,
  pings: pings.count,
  ping_failures: pings.failures.length,
  worst_ping_ms: Math.round(Math.max(lastWorst, pings.worstMs)),
  rss_mb_first_sixth_median: first,
  rss_mb_last_sixth_median: last,
  rss_mb_min: Math.min(...samples.map((s) => s.rss_mb)),
  rss_mb_max: Math.max(...samples.map((s) => s.rss_mb)),
  fds_first: samples[0]?.fds,
  fds_last: samples.at(-1)?.fds,
  errors: counts.errors,
};
// deno-lint-ignore no-console
console.log(JSON.stringify(summary, null, 2));
if (values.out) await Deno.writeTextFile(values.out, JSON.stringify({ summary, samples }, null, 2));

child.kill("SIGTERM");
const status = await child.status;
const stderr = await new Response(child.stderr).text();
await Deno.remove(dir, { recursive: true }).catch(() => {});
if (status.code !== 0 || stderr.trim()) {
  // deno-lint-ignore no-console
  console.error(`daemon exit ${status.code}; stderr: ${stderr.slice(0, 2000)}`);
}
const ok = status.code === 0 && counts.goodFailed === 0 && counts.badProblems === 0 &&
  pings.failures.length === 0;
Deno.exit(ok ? 0 : 1);
