import assert from "node:assert/strict";
import { WorkerHost } from "../../../src/host/worker_host.ts";

const FAULT = new URL("../../_support/fault_helper.ts", import.meta.url).href;

Deno.test("WorkerHost.call() leaves no abort listener on a long-lived signal after a timeout", async () => {
  const host = new WorkerHost(
    { handleTtlMs: 0, helperTimeoutMs: 100, maxFileBytes: 1 << 20, debug: 0 },
    () => {},
    true,
    [FAULT],
  );
  try {
    await host.ready;
    const signal = new AbortController().signal; // as dispatch's never-aborted signal
    let listeners = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...a: Parameters<typeof add>) => {
      listeners++;
      add(...a);
    }) as typeof add;
    signal.removeEventListener = ((...a: Parameters<typeof remove>) => {
      listeners--;
      remove(...a);
    }) as typeof remove;
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        host.call({
          module: "fault_helper",
          function: "slow",
          params: { ms: 300, value: "x".repeat(1_000_000) },
          hasParams: true,
          requestId: `1_${i + 10}_1`,
        }, signal),
        /timed out/,
      );
    }
    assert.equal(listeners, 0, "each timed-out call keeps its params alive through the listener");
  } finally {
    host.terminate(new Error("test finished"));
  }
});

Deno.test("WorkerHost.call() times out while its worker is still loading, and never sends the call", async () => {
  const SLOW = new URL("./_slow_load_helper.ts", import.meta.url).href;
  const lines: string[] = [];
  const host = new WorkerHost(
    { handleTtlMs: 0, helperTimeoutMs: 200, maxFileBytes: 1 << 20, debug: 0 },
    (level, m) => lines.push(`${level}: ${m}`),
    true,
    [SLOW],
  );
  try {
    let loaded = false;
    host.ready.then(() => (loaded = true), () => {});
    const call = (value: string, f = "echo") =>
      host.call({
        module: "slow_load_helper",
        function: f,
        params: f === "echo" ? { value } : {},
        hasParams: true,
        requestId: "1_77_1",
      }, new AbortController().signal);
    await assert.rejects(
      call("early"),
      (e) =>
        e instanceof Error &&
        /^Error in slow_load_helper\.echo: timed out after 0\.2 s/.test(e.message),
    );
    assert.equal(loaded, false, "the call waited for the worker past its timeout");
    assert.equal(host.abandoned, 1);
    await host.ready;
    const r = JSON.parse(new TextDecoder().decode(await call("late")));
    assert.deepEqual(r, { success: true, value: "late" });
    const n = JSON.parse(new TextDecoder().decode(await call("", "echoes")));
    assert.deepEqual(n, { success: true, echoes: 1 }, "the abandoned call ran in the worker");
    assert.equal(host.inFlight, 0);
    assert.ok(lines.some((l) => l.startsWith("warn: Abandoned slow_load_helper.echo after 0.2 s")));
  } finally {
    await host.close();
  }
});

Deno.test("WorkerHost.call() on a worker that cannot load its helpers: a clear error, state failed", async () => {
  const BROKEN = new URL("./_broken_helper.ts", import.meta.url).href;
  const lines: string[] = [];
  const host = new WorkerHost(
    { handleTtlMs: 0, helperTimeoutMs: 10_000, maxFileBytes: 1 << 20, debug: 0 },
    (level, m) => lines.push(`${level}: ${m}`),
    true,
    [BROKEN],
  );
  try {
    await assert.rejects(
      host.call({
        module: "datetime_helper",
        function: "parse_date",
        params: { date_string: "2024-01-01" },
        hasParams: true,
        requestId: "1_78_1",
      }, new AbortController().signal),
      (e) =>
        e instanceof Error && e.name === "WireError" &&
        /^Error in datetime_helper\.parse_date: the helper worker could not load the helpers \(.*broken_helper: cannot load/
          .test(e.message),
    );
    assert.equal(host.state(), "failed");
    assert.ok(lines.some((l) => /^error: .*broken_helper: cannot load/.test(l)), lines.join("\n"));
  } finally {
    host.terminate(new Error("test finished"));
  }
});
