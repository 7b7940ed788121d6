/**
 * Tests of `WorkerPool` with real Worker threads: a client's stuck call blocks no other client,
 * the stuck worker is replaced, its handles are reported lost, and handles are routed to (and
 * usable only by the client of) the worker that holds them.
 */

import assert from "node:assert/strict";
import { WorkerPool } from "../../../src/host/worker_pool.ts";
import { WireError } from "../../../src/errors.ts";
import { waitFor } from "../../_support/wait.ts";

const FAULT = new URL("../../_support/fault_helper.ts", import.meta.url).href;
const dec = new TextDecoder();

function pool(size: number, timeoutMs: number, lines: string[]) {
  return new WorkerPool(
    size,
    { handleTtlMs: 0, helperTimeoutMs: timeoutMs, maxFileBytes: 1 << 20, debug: 0 },
    (level, m) => lines.push(`${level}: ${m}`),
    true,
    [FAULT],
  );
}

const call = (
  p: WorkerPool,
  pid: number,
  module: string,
  fn: string,
  params: unknown = {},
) =>
  p.call(
    { module, function: fn, params, hasParams: true, requestId: `1764590000_${pid}_1` },
    new AbortController().signal,
  ).then((b) => JSON.parse(dec.decode(b)));

Deno.test({
  name: "WorkerPool.call() serves other clients while one client's call spins past the timeout",
  async fn() {
    const lines: string[] = [];
    const p = pool(2, 1000, lines);
    try {
      await p.ready;
      // Client 100 opens a cipher, then blocks its worker's thread for a minute.
      const made = await call(p, 100, "crypto", "new", { key: "secret", cipher: "Blowfish" });
      const id = made.result?.cipher_id ?? made.cipher_id;
      assert.equal(typeof id, "string", JSON.stringify(made));
      const stuck = call(p, 100, "fault_helper", "busy", { ms: 60_000 });
      stuck.catch(() => {});
      // Another client's calls are answered by the other worker meanwhile, each in well under
      // the timeout (a worker call: datetime_helper.now would run inline, see inline.ts).
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const r = await call(p, 200, "fault_helper", "slow", { ms: 1, value: i });
        const ms = performance.now() - t0;
        assert.deepEqual(r, { success: true, value: i });
        assert.ok(ms < 500, `fault_helper.slow took ${ms.toFixed(0)} ms`);
      }
      await assert.rejects(stuck, (e) => e instanceof WireError && e.errorType === "TimeoutError");
      // The stuck worker is replaced; client 100 is served again by the fresh one.
      await waitFor(
        () =>
          lines.some((l) => /helper worker \d was restarted because fault_helper\.busy/.test(l)),
        { what: "the restart log line", deadlineMs: 10_000 },
      );
      assert.equal(p.replaced, 1);
      const again = await waitFor(
        () => call(p, 100, "fault_helper", "slow", { ms: 1, value: "back" }).catch(() => undefined),
        { what: "client 100 served by the fresh worker", deadlineMs: 10_000 },
      );
      assert.deepEqual(again, { success: true, value: "back" });
      // Its cipher was in the replaced worker: a clear "lost" error, not "Invalid cipher ID".
      await assert.rejects(
        () => call(p, 100, "crypto", "encrypt", { cipher_id: id, plaintext: "x" }),
        (e) =>
          e instanceof WireError &&
          new RegExp(
            `^Error in crypto\\.encrypt: handle ${id} was lost: helper worker \\d was restarted because fault_helper\\.busy ran past CPAN_BRIDGE_HELPER_TIMEOUT \\(1 s\\)`,
          ).test(e.message),
      );
    } finally {
      await p.close();
    }
  },
});

Deno.test({
  name: "WorkerPool.call() routes a handle to its worker, where only its opener may use it",
  async fn() {
    const lines: string[] = [];
    const p = pool(3, 10_000, lines);
    try {
      await p.ready;
      // Three clients, each on its own worker (least busy at first sight).
      const ids: string[] = [];
      for (const pid of [301, 302, 303]) {
        const r = await call(p, pid, "crypto", "new", { key: `k${pid}`, cipher: "Blowfish" });
        ids.push(r.result?.cipher_id ?? r.cipher_id);
      }
      // The opener can use its handle.
      const own = await call(p, 301, "crypto", "encrypt", { cipher_id: ids[0], plaintext: "x" });
      assert.notEqual(own.success, false, JSON.stringify(own));
      // Another client naming it is refused clearly (not "Invalid cipher ID").
      const other = await call(p, 302, "crypto", "encrypt", { cipher_id: ids[0], plaintext: "x" });
      assert.equal(other.success, false);
      assert.match(
        String(other.error),
        /it belongs to another client process \(PID 301\); handles are usable only by the process that opened them/,
      );
      const counts = await p.handleCounts();
      assert.equal(counts["crypto.ciphers"], 3);
    } finally {
      await p.close();
    }
  },
});

const SETTINGS = { handleTtlMs: 0, helperTimeoutMs: 10_000, maxFileBytes: 1 << 20, debug: 0 };

Deno.test({
  name: "WorkerPool starts no worker until a helper call needs one; its names are the workers'",
  async fn() {
    const lazy = new WorkerPool(2, SETTINGS, () => {}, true, [], true);
    const eager = new WorkerPool(1, SETTINGS, () => {}, true, [], false);
    try {
      await lazy.ready;
      // What system.health, the whitelist and the metrics read, without a worker.
      assert.equal(lazy.state(), "ready");
      assert.deepEqual(await lazy.handleCounts(), {});
      assert.equal(await lazy.sweep(), 0);
      await lazy.cleanupStale();
      assert.equal(lazy.size, 0);
      // The same names and functions, in the same order, as a loaded worker reports.
      await eager.ready;
      assert.deepEqual(lazy.modules(), eager.modules());
      assert.deepEqual([...lazy.functions()], [...eager.functions()]);
      assert.ok(lazy.modules().includes("xml"), "aliases are listed");
      // The first call that needs a worker starts worker 0.
      const r = await call(lazy, 500, "crypto", "new", { key: "k", cipher: "Blowfish" });
      assert.equal(typeof (r.result?.cipher_id ?? r.cipher_id), "string", JSON.stringify(r));
      assert.equal(lazy.size, 1);
      assert.equal((await lazy.handleCounts())["crypto.ciphers"], 1);
    } finally {
      await lazy.close();
      await eager.close();
    }
  },
});

Deno.test({
  name: "WorkerPool replaces its only worker when a call spins past the timeout",
  async fn() {
    const lines: string[] = [];
    const p = pool(1, 300, lines);
    try {
      await p.ready;
      const stuck = call(p, 600, "fault_helper", "busy", { ms: 60_000 });
      await assert.rejects(stuck, (e) => e instanceof WireError && e.errorType === "TimeoutError");
      await waitFor(() => p.replaced === 1, {
        what: "the stuck worker replaced",
        deadlineMs: 10_000,
        logTail: () => lines.join("\n"),
      });
      assert.ok(
        lines.some((l) =>
          /^error: helper worker 0 was restarted because fault_helper\.busy ran past CPAN_BRIDGE_HELPER_TIMEOUT \(0\.3 s\) and did not stop; \d+ waiting call\(s\) failed and 0 handle\(s\) were lost$/
            .test(l)
        ),
        lines.join("\n"),
      );
      // The fresh worker serves (the spinning thread was terminated, not waited for); a call
      // may time out while it loads on a busy machine, so ask until one is answered.
      const again = await waitFor(
        () => call(p, 600, "fault_helper", "slow", { ms: 1, value: "back" }).catch(() => undefined),
        {
          what: "a call served by the fresh worker",
          deadlineMs: 10_000,
          logTail: () => lines.join("\n"),
        },
      );
      assert.deepEqual(again, { success: true, value: "back" });
    } finally {
      await p.close();
    }
  },
});

Deno.test("WorkerPool a worker that failed to load is replaced at the next call, not kept until a restart", async () => {
  const BROKEN = new URL("./_broken_helper.ts", import.meta.url).href;
  const lines: string[] = [];
  const pool = new WorkerPool(
    1,
    { handleTtlMs: 0, helperTimeoutMs: 10_000, maxFileBytes: 1 << 20, debug: 0 },
    (level, m) => lines.push(`${level}: ${m}`),
    true,
    [BROKEN],
  );
  const call = () =>
    pool.call({
      module: "datetime_helper",
      function: "parse_date",
      params: { date_string: "2024-01-01" },
      hasParams: true,
      requestId: "1_79_1",
    }, new AbortController().signal);
  try {
    await assert.rejects(call(), /could not load the helpers/);
    assert.equal(pool.state(), "failed");
    const before = lines.filter((l) => /Could not load helper modules/.test(l)).length;
    await assert.rejects(call(), /could not load the helpers/);
    const after = lines.filter((l) => /Could not load helper modules/.test(l)).length;
    assert.equal(after, before + 1, "the second call loaded a fresh worker");
    assert.equal(pool.size, 1);
  } finally {
    await pool.close();
  }
});
