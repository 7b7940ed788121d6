/**
 * @module
 * `callWithin`: the one owner of the helper call timeout (`CPAN_BRIDGE_HELPER_TIMEOUT`) and of a
 * call's cancellation. Every host that runs a call for the daemon's socket thread goes through it
 * (`WorkerHost` for the Worker, `InProcessHost` on the calling thread); the helper Worker's own
 * `InProcessHost` does not, because its caller, `WorkerHost`, already did. Past the timeout (or
 * when the caller's signal aborts) the caller is answered at once with the contract's error, the
 * host is told to stop the work, and the work is abandoned, never awaited.
 */

import { helperTimedOut, WireError } from "../errors.ts";
import type { HostCall } from "./types.ts";
import { MAX_TIMER_MS } from "../wire/idle_deadline.ts";

/** The error a call gets when its caller's signal aborts (daemon shutdown). */
export function callCancelled(c: HostCall, reason: unknown): WireError {
  return new WireError(
    `Error in ${c.module}.${c.function}: cancelled (${String(reason ?? "daemon stopping")})`,
    "RuntimeError",
  );
}

/**
 * Runs `start()` for call `c` within `timeoutMs`. When the timeout passes or `signal` aborts
 * first, the caller gets the error at once and `stop(err, timedOut)` is told, so that the host
 * abandons the work (aborts the helper's signal, tells the worker) and counts a timeout; the
 * work's own outcome is then ignored. No signal or controller is made per call here: a host
 * that needs one (the helper's `ctx.signal`) makes it.
 */
export function callWithin<T>(
  c: HostCall,
  timeoutMs: number,
  signal: AbortSignal,
  start: () => Promise<T>,
  stop: (err: WireError, timedOut: boolean) => void,
): Promise<T> {
  if (signal.aborted) return Promise.reject(callCancelled(c, signal.reason));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const end = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      // The long-lived caller signal would otherwise keep this call (and its params) alive.
      signal.removeEventListener("abort", onAbort);
      return true;
    };
    const timer = setTimeout(() => {
      if (!end()) return;
      const err = helperTimedOut(c.module, c.function, timeoutMs / 1000);
      reject(err);
      stop(err, true);
    }, Math.min(timeoutMs, MAX_TIMER_MS));
    const onAbort = () => {
      if (!end()) return;
      const err = callCancelled(c, signal.reason);
      reject(err);
      stop(err, false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    start().then(
      (v) => end() && resolve(v),
      (e) => end() && reject(e),
    );
  });
}
