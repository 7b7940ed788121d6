import assert from "node:assert/strict";
import { callWithin } from "../../../src/host/call_timeout.ts";
import { WireError } from "../../../src/errors.ts";
import type { HostCall } from "../../../src/host/types.ts";

const CALL: HostCall = {
  module: "datetime_helper",
  function: "now",
  params: {},
  hasParams: true,
  requestId: "1_2_3",
};

Deno.test("callWithin() resolves with the work's value and leaves no timer", async () => {
  let stops = 0;
  const v = await callWithin(
    CALL,
    60_000,
    new AbortController().signal,
    () => Promise.resolve(42),
    () => stops++,
  );
  assert.equal(v, 42);
  assert.equal(stops, 0);
});

Deno.test("callWithin() answers a hung call at the timeout and tells the host to stop it", async () => {
  const seen: Array<[WireError, boolean]> = [];
  let answered: unknown;
  await assert.rejects(
    callWithin(
      CALL,
      20,
      new AbortController().signal,
      () => new Promise<never>(() => {}), // never settles: abandoned, not awaited
      (err, timedOut) => seen.push([err, timedOut]),
    ).catch((e) => {
      answered = e;
      throw e;
    }),
    (e) =>
      e instanceof WireError && e.errorType === "TimeoutError" &&
      e.message ===
        "Error in datetime_helper.now: timed out after 0.02 s (CPAN_BRIDGE_HELPER_TIMEOUT); the call was abandoned",
  );
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.[0], answered, "the host is told the error the caller got");
  assert.equal(seen[0]?.[1], true);
});

Deno.test("callWithin() cancels on the caller's signal and removes its listener", async () => {
  const caller = new AbortController();
  let listeners = 0;
  const add = caller.signal.addEventListener.bind(caller.signal);
  const remove = caller.signal.removeEventListener.bind(caller.signal);
  caller.signal.addEventListener = ((...a: Parameters<typeof add>) => {
    listeners++;
    add(...a);
  }) as typeof add;
  caller.signal.removeEventListener = ((...a: Parameters<typeof remove>) => {
    listeners--;
    remove(...a);
  }) as typeof remove;
  // A settled call leaves nothing on the long-lived signal.
  await callWithin(CALL, 60_000, caller.signal, () => Promise.resolve(1), () => {});
  assert.equal(listeners, 0);
  const seen: boolean[] = [];
  const p = callWithin(
    CALL,
    60_000,
    caller.signal,
    () => new Promise<never>(() => {}),
    (_err, timedOut) => seen.push(timedOut),
  );
  caller.abort("daemon stopping");
  await assert.rejects(
    p,
    (e) =>
      e instanceof WireError && e.errorType === "RuntimeError" &&
      e.message === "Error in datetime_helper.now: cancelled (daemon stopping)",
  );
  assert.deepEqual(seen, [false], "stopped once, not as a timeout");
  // An already aborted signal: refused before any work starts.
  let started = false;
  await assert.rejects(
    callWithin(CALL, 60_000, caller.signal, () => {
      started = true;
      return Promise.resolve(1);
    }, () => {}),
    /cancelled/,
  );
  assert.equal(started, false);
});

Deno.test("callWithin() passes the work's own error through unchanged", async () => {
  const err = new WireError("Error in datetime_helper.now: boom", "RuntimeError");
  await assert.rejects(
    callWithin(CALL, 60_000, new AbortController().signal, () => Promise.reject(err), () => {}),
    (e) => e === err,
  );
});
