/**
 * Tests of `findInjection()` (linear-time injection scanning) against the regular expressions it
 * replaces, and of the daemon: hostile strings in a request never delay a liveness ping.
 */

import assert from "node:assert/strict";
import { findInjection, INJECTION_PATTERNS } from "../../../src/ops/security.ts";
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
  sanitizeResources: false,
  sanitizeOps: false,
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
