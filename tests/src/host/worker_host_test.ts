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
