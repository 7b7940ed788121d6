/**
 * Robustness: seeded, reproducible hostile input on the raw socket (scripts/robustness_cases.ts).
 * Every case gets a JSON envelope with `success:false` and a clear `error` (or succeeds, or
 * expects no reply because the client left), nothing crashes or rejects unhandled, and a ping
 * from another client answers within the Perl client's 2 s deadline throughout.
 * Longer runs: `deno run -A scripts/fuzz_wire.ts --cases 20000 --seed N`.
 */

import assert from "node:assert/strict";
import { startTestDaemon } from "../_support/daemon.ts";
import { rawJson } from "../_support/raw.ts";
import { fuzz, startPinger } from "../../scripts/robustness_cases.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261128);
const CASES = Number(Deno.env.get("FUZZ_CASES") ?? 2500);

Deno.test({
  name: `daemon answers ${CASES} seeded hostile requests (seed ${SEED}) and keeps pinging < 2 s`,
  async fn() {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      unhandled.push(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", onUnhandled);
    await using d = await startTestDaemon({ CPAN_BRIDGE_READ_TIMEOUT: "5" });
    try {
      const pinger = startPinger(d.socket, 100);
      const t0 = performance.now();
      const tally = await fuzz(d.socket, SEED, CASES, 8);
      const seconds = (performance.now() - t0) / 1000;
      const pings = await pinger.stop();
      const classes = [...tally.classes].sort((a, b) => b[1] - a[1]);
      // deno-lint-ignore no-console -- the figures docs/robustness.md reports
      console.log(JSON.stringify(
        {
          seed: SEED,
          cases: tally.cases,
          seconds: Math.round(seconds * 10) / 10,
          replies: tally.replies,
          successes: tally.successes,
          no_reply_expected: tally.noReplyExpected,
          distinct_error_classes: classes.length,
          pings: pings.count,
          worst_ping_ms: Math.round(pings.worstMs),
          kinds: Object.fromEntries(tally.kinds),
          classes: Object.fromEntries(classes),
        },
        null,
        1,
      ));
      assert.deepEqual(tally.problems.slice(0, 5), [], `${tally.problems.length} cases failed`);
      assert.deepEqual(pings.failures, []);
      assert.ok(pings.worstMs < 2000, `worst ping ${pings.worstMs} ms`);
      assert.ok(classes.length >= 10, `only ${classes.length} distinct error classes`);
      assert.ok(tally.replies > CASES * 0.8);
      // The daemon still serves real work afterwards.
      const r = await rawJson(d.socket, {
        module: "datetime_helper",
        function: "now",
        params: {},
        request_id: "1_1_1",
      });
      assert.equal(r.success, true);
      assert.deepEqual(unhandled, []);
    } finally {
      globalThis.removeEventListener("unhandledrejection", onUnhandled);
    }
  },
});
