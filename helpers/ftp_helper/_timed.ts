/**
 * @module
 * Deadlines for the FTP client's network waits: `timed` runs one operation under Net::FTP's
 * inactivity `Timeout` and the call's abort signal, and unblocks it on expiry.
 */

import { FtpError } from "./error.ts";

/** Closes a connection or listener, ignoring one already closed. */
export function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* already closed */ }
}

/**
 * Runs `op` with a deadline of `ms`; on timeout calls `onTimeout` (to unblock the operation) and
 * rejects with FtpError("timeout"). Also rejects when `signal` aborts.
 */
export function timed<R>(
  ms: number,
  signal: AbortSignal | undefined,
  what: string,
  op: (signal: AbortSignal) => Promise<R>,
  onTimeout?: () => void,
): Promise<R> {
  const ac = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      onTimeout?.();
      reject(new FtpError("timeout", `Timed out after ${ms / 1000} s ${what}`));
    }, ms);
    if (signal) {
      onAbort = () => {
        ac.abort();
        onTimeout?.();
        reject(new FtpError("aborted", `Aborted while ${what}: ${signal.reason ?? "cancelled"}`));
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
  });
  const run = op(ac.signal);
  run.catch(() => {}); // settled by the race below or ignored after a timeout
  return Promise.race([run, guard]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  });
}
