/**
 * @module
 * `guardProcess(log)`: makes an unhandled promise rejection or an uncaught error event anywhere in
 * the daemon a logged error instead of the end of the process (Deno's default exits, losing every
 * session, handle and in-flight call and leaving a stale socket). Returns the function that
 * removes the guard.
 */

/** Longest error text logged per event, in characters. */
const MAX_TEXT = 2000;

function describe(reason: unknown): string {
  const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}… (${text.length} chars)` : text;
}

/**
 * Installs the guard.
 *
 * @param log where each survived event goes (error level)
 * @returns a function that removes the guard again
 */
export function guardProcess(log: (message: string) => void): () => void {
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    try {
      log(`Unhandled promise rejection (survived): ${describe(e.reason)}`);
    } catch { /* the log itself failed: nothing more to do */ }
  };
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    try {
      log(`Uncaught error (survived): ${describe(e.error ?? e.message)}`);
    } catch { /* as above */ }
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  globalThis.addEventListener("error", onError);
  return () => {
    globalThis.removeEventListener("unhandledrejection", onRejection);
    globalThis.removeEventListener("error", onError);
  };
}

/** Linux `RLIMIT_CORE`. */
const RLIMIT_CORE = 4;

/**
 * Sets the core-dump size limit (soft and hard) of this process to 0, so a crash never writes
 * passwords, keys or session data to disk. Returns an error text when it could not (no libc,
 * FFI not permitted), undefined on success.
 */
export function disableCoreDumps(): string | undefined {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    return "no FFI permission (run with --allow-ffi or --allow-all; meanwhile rely on LimitCORE=0 or ulimit -c 0)";
  }
  try {
    const libc = Deno.dlopen("libc.so.6", {
      setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    });
    try {
      const rl = new BigUint64Array([0n, 0n]); // struct rlimit { rlim_cur, rlim_max }
      const rc = libc.symbols.setrlimit(RLIMIT_CORE, new Uint8Array(rl.buffer));
      return rc === 0 ? undefined : `setrlimit returned ${rc}`;
    } finally {
      libc.close();
    }
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
