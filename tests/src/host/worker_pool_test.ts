/**
 * Tests of `WorkerPool` with real Worker threads: a client's stuck call blocks no other client,
 * the stuck worker is replaced, its handles are reported lost, and handles are routed to (and
 * usable only by the client of) the worker that holds them.
 */

import assert from "node:assert/strict";
import { WorkerPool } from "../../../src/host/worker_pool.ts";
import { WireError } from "../../../src/errors.ts";
import { waitFor } from "../../_support/wait.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

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

/** A lazy pool (the daemon's kind) whose idle workers stop after `IDLE_MS` of the fake clock. */
const IDLE_MS = 60_000;
function retiringPool(
  size: number,
  lines: string[],
  clock: FakeClock,
  extra: string[] = [],
  helperTimeoutMs = 10_000,
) {
  return new WorkerPool(
    size,
    { handleTtlMs: 0, helperTimeoutMs, maxFileBytes: 1 << 20, debug: 0 },
    (level, m) => lines.push(`${level}: ${m}`),
    true,
    extra,
    true,
    { idleMs: IDLE_MS, clock },
  );
}

/** A call that needs a worker (datetime_helper.now would run inline). */
const escape = (p: WorkerPool, pid: number, value: string) =>
  call(p, pid, "xml_helper", "escape_xml", { value });

Deno.test({
  name:
    "WorkerPool.retireIdle() stops a worker with no handles after idleMs without a call; the next call starts it again",
  async fn() {
    const lines: string[] = [];
    const clock = new FakeClock();
    const p = retiringPool(2, lines, clock);
    try {
      const modules = [...p.modules()];
      assert.deepEqual(await escape(p, 700, "a<b"), { success: true, result: "a&lt;b" });
      assert.equal(p.size, 1);
      assert.equal(p.retireIdle(), 0, "first seen idle now");
      clock.advance(IDLE_MS - 1);
      assert.equal(p.retireIdle(), 0, "not idle long enough");
      clock.advance(1);
      assert.equal(p.retireIdle(), 1);
      assert.equal(p.size, 0);
      assert.equal(p.retired, 1);
      assert.deepEqual(p.workerCounts(), { running: 0, stopped: 1, replaced: 0 });
      assert.ok(
        lines.includes(
          "info: Stopped helper worker 0: no call for 60 s and no open handles (the next helper call that needs it starts it again)",
        ),
        lines.join("\n"),
      );
      // What health and the metrics read is unchanged without a worker.
      assert.equal(p.state(), "ready");
      assert.deepEqual([...p.modules()], modules);
      assert.deepEqual(await p.handleCounts(), {});
      assert.equal(await p.sweep(), 0);
      // The next call starts worker 0 again.
      assert.deepEqual(await escape(p, 700, "c&d"), { success: true, result: "c&amp;d" });
      assert.equal(p.size, 1);
    } finally {
      await p.close();
    }
  },
});

Deno.test({
  name:
    "WorkerPool.retireIdle() keeps a worker that holds a handle or has a call running, and stops it once neither",
  async fn() {
    const lines: string[] = [];
    const clock = new FakeClock();
    const p = retiringPool(2, lines, clock);
    try {
      // Two clients at once: worker 0 gets client 301 (who opens a cipher), worker 1 client 302.
      const [made, plain] = await Promise.all([
        call(p, 301, "crypto", "new", { key: "k", cipher: "Blowfish" }),
        escape(p, 302, "x"),
      ]);
      const id = made.result?.cipher_id ?? made.cipher_id;
      assert.equal(typeof id, "string", JSON.stringify(made));
      assert.deepEqual(plain, { success: true, result: "x" });
      assert.equal(p.size, 2);
      p.retireIdle();
      clock.advance(10 * IDLE_MS);
      assert.equal(p.retireIdle(), 1, "worker 1 stops, worker 0 keeps its cipher");
      assert.equal(p.size, 1);
      assert.ok(lines.some((l) => /Stopped helper worker 1:/.test(l)), lines.join("\n"));
      // The cipher still works for its owner; client 302 is routed afresh, to the running worker.
      const enc = await call(p, 301, "crypto", "encrypt", { cipher_id: id, plaintext: "x" });
      assert.notEqual(enc.success, false, JSON.stringify(enc));
      assert.deepEqual(await escape(p, 302, "y"), { success: true, result: "y" });
      assert.equal(p.size, 1);
      // A call running when the check comes keeps its worker, however long it was idle before.
      p.retireIdle();
      clock.advance(10 * IDLE_MS);
      await call(p, 301, "crypto", "cleanup_cipher", { cipher_id: id });
      assert.equal((await p.handleCounts())["crypto.ciphers"], 0);
      p.retireIdle();
      clock.advance(IDLE_MS);
      const running = escape(p, 302, "z");
      assert.equal(p.retireIdle(), 0, "a call is in flight");
      assert.deepEqual(await running, { success: true, result: "z" });
      assert.equal(p.size, 1);
      clock.advance(IDLE_MS);
      assert.equal(p.retireIdle(), 0, "its call was seen: idle again from now");
      clock.advance(IDLE_MS);
      assert.equal(p.retireIdle(), 1);
      assert.equal(p.size, 0);
      assert.equal(p.retired, 2);
    } finally {
      await p.close();
    }
  },
});

Deno.test({
  name: "WorkerPool serves a call that arrives while an idle worker is being stopped",
  async fn() {
    const lines: string[] = [];
    const clock = new FakeClock();
    const p = retiringPool(1, lines, clock);
    try {
      assert.deepEqual(await escape(p, 800, "1"), { success: true, result: "1" });
      p.retireIdle();
      clock.advance(IDLE_MS);
      // Stopped and, in the same turn (its close still running), a call for it.
      assert.equal(p.retireIdle(), 1);
      const during = escape(p, 800, "<2>");
      assert.equal(p.size, 1, "a fresh worker took its place");
      assert.deepEqual(await during, { success: true, result: "&lt;2&gt;" });
      assert.equal(p.retired, 1);
    } finally {
      await p.close();
    }
  },
});

Deno.test({
  name:
    "WorkerPool keeps the abandoned-call count of a stopped worker, and never stops worker 0 that names test helpers",
  async fn() {
    const lines: string[] = [];
    const clock = new FakeClock();
    const p = retiringPool(2, lines, clock, [FAULT], 300);
    try {
      await p.ready;
      // Worker 0 busy with client 100, so client 200 gets worker 1 (asked until it has loaded:
      // a call may time out while it loads on a busy machine), where its next call times out.
      const first = call(p, 100, "fault_helper", "slow", { ms: 100, value: 1 });
      const warm = call(p, 200, "fault_helper", "slow", { ms: 1, value: 0 }).catch(() => undefined);
      assert.deepEqual(await first, { success: true, value: 1 });
      await warm;
      await waitFor(
        () => call(p, 200, "fault_helper", "slow", { ms: 1, value: 0 }).catch(() => undefined),
        { what: "worker 1 loaded", deadlineMs: 10_000, logTail: () => lines.join("\n") },
      );
      assert.equal(p.size, 2);
      const late = call(p, 200, "fault_helper", "slow", { ms: 60_000, value: 2 });
      await assert.rejects(late, (e) => e instanceof WireError && e.errorType === "TimeoutError");
      const abandoned = p.abandoned;
      assert.ok(abandoned >= 1);
      p.retireIdle();
      clock.advance(IDLE_MS);
      assert.equal(p.retireIdle(), 1, "worker 1 only: worker 0 reports the fault_helper names");
      assert.ok(lines.some((l) => /Stopped helper worker 1:/.test(l)), lines.join("\n"));
      assert.equal(p.size, 1);
      assert.equal(p.abandoned, abandoned);
      assert.equal(p.replaced, 0);
      assert.ok(p.modules().includes("fault_helper"));
      clock.advance(10 * IDLE_MS);
      assert.equal(p.retireIdle(), 0);
    } finally {
      await p.close();
    }
  },
});

Deno.test("WorkerPool.trimHeaps() asks each running worker for its heap trim: answered, and the worker serves on (without --expose-gc nothing is collected)", async () => {
  const lines: string[] = [];
  const p = pool(1, 10_000, lines);
  try {
    await p.ready;
    p.trimHeaps(); // answered in the worker, not awaited
    const r = await call(p, 4001, "xml_helper", "escape_xml", { value: "a<b" });
    assert.equal(r.result, "a&lt;b");
    assert.ok(!lines.some((l) => /error|heap collected/i.test(l)), lines.join("\n"));
  } finally {
    await p.close();
  }
});
