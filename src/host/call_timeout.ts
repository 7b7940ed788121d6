/**
 * @module
 * `callWithin`: the one owner of the helper call timeout (`CPAN_BRIDGE_HELPER_TIMEOUT`) and of a
 * call's cancellation. Every host that runs a call for the daemon's socket thread goes through it
 * (`WorkerHost` for the Worker, `InProcessHost` on the calling thread); the helper Worker's own
 * `InProcessHost` does not, because its caller, `WorkerHost`, already did. Past the timeout (or
 * when the caller's signal aborts) the caller is answered at once with the contract's error, the
 * work's `stop` signal aborts with that error, and the work is abandoned, never awaited.
 */

import { helperTimedOut, WireError } from "../errors.ts";
import type { HostCall } from "./types.ts";

/** The error a call gets when its caller's signal aborts (daemon shutdown). */
export function callCancelled(c: HostCall, reason: unknown): WireError {
  return new WireError(
    `Error in ${c.module}.${c.function}: cancelled (${String(reason ?? "daemon stopping")})`,
    "RuntimeError",
  );
}

/**
 * Runs `work(stop)` for call `c` within `timeoutMs`. `stop` aborts (with the error the caller
 * got) when the timeout passes or `signal` aborts first; `onTimeout` is told of a timeout (the
 * host counts and logs it) after the caller has its error.
 */
export function callWithin<T>(
  c: HostCall,
  timeoutMs: number,
  signal: AbortSignal,
  work: (stop: AbortSignal) => Promise<T>,
  onTimeout?: (err: WireError) => void,
): Promise<T> {
  if (signal.aborted) return Promise.reject(callCancelled(c, signal.reason));
  const stop = new AbortController();
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
      stop.abort(err);
      reject(err);
      onTimeout?.(err);
    }, timeoutMs);
    const onAbort = () => {
      if (!end()) return;
      const err = callCancelled(c, signal.reason);
      stop.abort(err);
      reject(err);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work(stop.signal).then(
      (v) => end() && resolve(v),
      (e) => end() && reject(e),
    );
  });
}
