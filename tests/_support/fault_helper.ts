/**
 * @module
 * `fault_helper`: a helper for robustness tests only (never registered in `helpers/registry.ts`).
 * Each function misbehaves in one way a real helper might: it throws, hangs, blocks its thread,
 * or returns a value that cannot be sent as JSON. The default export lets the helper Worker load
 * it by URL (`WorkerHost` `extraHelperModules`).
 */

import { defineHelper, fn } from "../../helpers/types.ts";

/** Resolves after `ms`, or rejects with the signal's reason when it is aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Hang calls that saw their signal abort (they were abandoned), for tests in this process. */
export const faultCounters = { hangsAborted: 0 };

export const faultHelper = defineHelper({
  name: "fault_helper",
  replaces: "nothing (robustness tests)",
  functions: {
    /** Throws an Error with the given message (a helper bug). */
    throw_error: fn(["message"], (a) => {
      throw new Error(String(a.message ?? "fault_helper exploded"));
    }),
    /** Never resolves until the call's signal aborts (timeout or shutdown). */
    hang: fn([], (_a, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          faultCounters.hangsAborted++;
          reject(ctx.signal.reason);
        }, { once: true });
      })),
    /** Blocks its thread for `ms` milliseconds without yielding, then returns how long it spun. */
    busy: fn(["ms"], (a) => {
      const ms = Number(a.ms ?? 100);
      const t0 = performance.now();
      while (performance.now() - t0 < ms) { /* spin */ }
      return { success: true, spun_ms: Math.round(performance.now() - t0) };
    }),
    /** Waits `ms` (honouring the signal), then echoes `value`: a well-behaved slow call. */
    slow: fn(["ms", "value"], async (a, ctx) => {
      await sleep(Number(a.ms ?? 100), ctx.signal);
      return { success: true, value: a.value ?? null };
    }),
    /** Returns an object that refers to itself. */
    circular: fn([], () => {
      const o: Record<string, unknown> = { success: true };
      o.self = o;
      return o;
    }),
    /** Returns NaN and Infinity, which JSON cannot carry. */
    nan: fn([], () => ({ success: true, nan: NaN, inf: Infinity, list: [NaN, -Infinity] })),
    /** Returns a BigInt (sent as its decimal text). */
    bigint: fn([], () => ({ success: true, big: 12345678901234567890n })),
    /** Returns `size` bytes of text, for replies larger than any socket buffer. */
    big: fn(["size"], (a) => ({ success: true, data: "x".repeat(Number(a.size ?? 1_000_000)) })),
  },
});

export default faultHelper;
