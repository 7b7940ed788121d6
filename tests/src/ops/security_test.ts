/**
 * Tests of `findInjection()` (linear-time injection scanning) against the regular expressions it
 * replaces, and of the daemon: hostile strings in a request never delay a liveness ping.
 */

import assert from "node:assert/strict";
import { FakeClock } from "../../_support/fake_clock.ts";
import {
  ALERT_THRESHOLDS,
  EVENTS_COUNTED,
  findInjection,
  INJECTION_PATTERNS,
  RECENT_EVENTS,
  SecurityMonitor,
} from "../../../src/ops/security.ts";
import { KEPT_TEXT_BYTES } from "../../../src/ops/ring.ts";
import type { LineLogger } from "../../../src/log/mod.ts";
import { startTestDaemon } from "../../_support/daemon.ts";
import { rawJson, timedPing } from "../../_support/raw.ts";

/** The patterns as they were (the oracle for what must match). */
const ORACLE: ReadonlyArray<RegExp> = [
  /<script[^>]*>/i,
  /javascript:/i,
  /<[a-z][^>]*\son\w+\s*=/i,
  /\$\{[^}]*\}/,
  /#\{[^}]*\}/,
  /\.\.\//,
];

const oracle = (s: string) => {
  const i = ORACLE.findIndex((re) => re.test(s));
  return i < 0 ? undefined : INJECTION_PATTERNS[i];
};

/** A small seeded generator (xorshift32). */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

Deno.test("findInjection() matches exactly what the old regular expressions matched", () => {
  const fixed = [
    "<script>",
    "<SCRIPT src=x>",
    "<script",
    "javascript:alert(1)",
    "JavaScript:",
    "<img src=x onerror=alert(1)>",
    "<a\tONclick = 1",
    "<a on=1>",
    "<a onx>",
    "<a> onx=",
    "<1 onx=",
    "<a<b onload=",
    "${VAR}",
    "${",
    "#{x}",
    "#{",
    "../etc",
    "..\\",
    "<a\u00a0onclick=",
    "<a\u2028onb\u3000=",
    "",
    "plain text",
  ];
  for (const s of fixed) assert.equal(findInjection(s), oracle(s), JSON.stringify(s));
  const alphabet = [..."<>aAoOnN =${}#./:\tsScrRiptjv_1\u00a0"];
  const r = rng(20261201);
  for (let n = 0; n < 30_000; n++) {
    const len = Math.floor(r() * 24);
    let s = "";
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
    if (r() < 0.3) s = `<a ${s}`;
    assert.equal(findInjection(s), oracle(s), JSON.stringify(s));
  }
});

Deno.test("findInjection() is linear: 64 KiB of backtracking bait takes milliseconds", () => {
  for (
    const bait of ["<a", "${", "#{", "<a o", "<a on", "<a onx ", "<script", "\t<a\ton"]
  ) {
    const s = bait.repeat(Math.ceil(65_536 / bait.length)).slice(0, 65_536);
    const t0 = performance.now();
    findInjection(s);
    const ms = performance.now() - t0;
    assert.ok(ms < 100, `${JSON.stringify(bait)} × 64 KiB took ${ms.toFixed(0)} ms`);
  }
});

Deno.test({
  name: "validateRequest() scanning: 20 hostile 64 KiB strings never delay liveness pings",
  async fn() {
    await using d = await startTestDaemon();
    const poison = "<a".repeat(32_768);
    const params = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${i}`, poison]));
    let worst = 0;
    let done = false;
    const pinger = (async () => {
      while (!done) {
        worst = Math.max(worst, await timedPing(d.socket));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const t0 = performance.now();
    const [ping, echo] = await Promise.all([
      rawJson(d.socket, { module: "test", function: "ping", params }),
      rawJson(d.socket, { module: "test", function: "echo", params, request_id: "1_2_3" }),
    ]);
    const total = performance.now() - t0;
    done = true;
    await pinger;
    assert.equal(ping.success, true);
    assert.equal(echo.success, true);
    assert.ok(total < 3000, `the two hostile requests took ${total.toFixed(0)} ms`);
    assert.ok(worst < 1000, `worst liveness ping ${worst.toFixed(0)} ms`);
    // deno-lint-ignore no-console -- the figure docs/robustness.md reports
    console.log(`hostile requests ${total.toFixed(0)} ms, worst ping ${worst.toFixed(0)} ms`);
  },
});

/** A logger that keeps its lines, for reading what SecurityMonitor wrote. */
function lineLog(): { lines: string[]; log: LineLogger } {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level} ${m}`);
  return {
    lines,
    log: {
      debug: at("DEBUG"),
      info: at("INFO"),
      warn: at("WARNING"),
      error: at("ERROR"),
      critical: at("CRITICAL"),
    },
  };
}

Deno.test("SecurityMonitor.metrics() behaviour: keeps the last 10 events' fixed fields, counts 1000", () => {
  const clock = new FakeClock();
  const { lines, log } = lineLog();
  const sec = new SecurityMonitor(log, () => clock.now());
  const huge = "k".repeat(61_440), long = "q".repeat(4096);
  for (let i = 0; i < 1100; i++) {
    clock.advance(1000);
    sec.record(
      i % 2 ? "injection_attempt" : "unauthorized_function",
      i % 2 ? "warning" : "error",
      { client: `_${i}_${huge}` },
      { request_id: long, module: long, function: long },
      { attempted_function: long, allowed_functions: [long, long] },
    );
  }
  const m = sec.metrics();
  assert.equal(m.total_events, EVENTS_COUNTED);
  assert.equal(sec.total, 1100);
  assert.equal(m.recent_events.length, RECENT_EVENTS);
  for (const [k, e] of m.recent_events.entries()) {
    assert.deepEqual(Object.keys(e), ["event_type", "severity", "timestamp", "client_info"]);
    assert.equal(e.event_type, (1090 + k) % 2 ? "injection_attempt" : "unauthorized_function");
    assert.ok(e.client_info.startsWith(`_${1090 + k}_kkk`));
    assert.ok(new TextEncoder().encode(e.client_info).length <= KEPT_TEXT_BYTES);
  }
  // The whole event still goes to the security log (bounded there by the log's own line cap).
  assert.equal(lines.filter((l) => l.startsWith("INFO {")).length, 1100);
});

/** The alert check as it was: every event time of the last hour kept and filtered per event. */
function oracleAlerts(events: ReadonlyArray<[string, number]>): string[] {
  const times = new Map<string, number[]>();
  const alerting = new Set<string>();
  const out: string[] = [];
  const check = (type: string, t: number) => {
    const threshold = ALERT_THRESHOLDS[type];
    if (threshold === undefined) return;
    const kept = (times.get(type) ?? []).filter((x) => t - x < 3_600_000);
    kept.push(t);
    times.set(type, kept);
    if (kept.length >= threshold) {
      if (!alerting.has(type)) {
        alerting.add(type);
        out.push(
          `CRITICAL SECURITY ALERT: ${type} threshold exceeded: ${kept.length} events in last hour (threshold: ${threshold})`,
        );
      }
    } else alerting.delete(type);
  };
  for (const [type, t] of events) {
    check(type, t);
    if (type === "unauthorized_function") check("unauthorized_access", t);
  }
  return out;
}

Deno.test("SecurityMonitor alerts behaviour: the same SECURITY ALERT lines as keeping every time of the hour", () => {
  const next = rng(17);
  let crossedTwice = 0;
  for (let round = 0; round < 40; round++) {
    const clock = new FakeClock();
    const { lines, log } = lineLog();
    const sec = new SecurityMonitor(log, () => clock.now());
    const events: Array<[string, number]> = [];
    // Bursts and lulls around the one-hour window, so alerts cross, clear and cross again.
    const gap = [1000, 60_000, 400_000, 900_000][round % 4]!;
    for (let i = 0; i < 400; i++) {
      clock.advance(Math.floor(next() * gap));
      const type = ["injection_attempt", "unauthorized_function", "suspicious_content"][
        Math.floor(next() * 3)
      ]!;
      sec.record(type, "warning", { client: "c" }, {}, {});
      events.push([type, clock.now()]);
    }
    const got = lines.filter((l) => l.startsWith("CRITICAL"));
    assert.deepEqual(got, oracleAlerts(events), `round ${round}`);
    assert.equal(sec.alerts, got.length);
    if (new Set(got).size < got.length) crossedTwice++;
  }
  assert.ok(crossedTwice > 0, "no round crossed a threshold, cleared and crossed again");
});
