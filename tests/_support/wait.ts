/**
 * @module
 * The one poll-with-a-deadline of the tests: `waitFor()` re-checks a condition until it holds or
 * the deadline passes, and on timeout says what it waited for and, when given a log, the last
 * lines of it (the daemon's log usually says why). Tests never sleep to wait for readiness.
 */

/** Where the log tail on timeout comes from: a file path, `{ dir }` of a test daemon (its
 * `cpan_daemon.log`), or a function returning the text. */
export type LogSource = string | { readonly dir: string } | (() => string | Promise<string>);

/** Options of `waitFor()`. */
export interface WaitOptions {
  /** What is awaited, for the timeout message ("daemon on /tmp/x.sock"). */
  readonly what: string;
  /** How long to wait in total; default 30 s. */
  readonly deadlineMs?: number;
  /** A log whose last lines the timeout error carries. */
  readonly logTail?: LogSource;
}

/** Lines of the log carried by a timeout error. */
export const LOG_TAIL_LINES = 40;

/** The last `lines` lines of the log, or a note saying why it could not be read. */
export async function readLogTail(source: LogSource, lines = LOG_TAIL_LINES): Promise<string> {
  let text: string;
  try {
    text = typeof source === "function" ? await source() : await Deno.readTextFile(
      typeof source === "string" ? source : `${source.dir}/cpan_daemon.log`,
    );
  } catch (e) {
    return `(log not readable: ${e instanceof Error ? e.message : String(e)})`;
  }
  const all = text.replace(/\n$/, "").split("\n");
  return all.slice(-lines).join("\n");
}

/**
 * Polls `cond` (5 ms, doubling to 100 ms between checks) until it returns a truthy value, and
 * returns that value. Throws when `opts.deadlineMs` passes first, with `what` and the log tail;
 * an error thrown by `cond` ends the wait at once.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, opts: WaitOptions): Promise<T> {
  const deadlineMs = opts.deadlineMs ?? 30_000;
  const end = Date.now() + deadlineMs;
  let delay = 5;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  let msg = `Timed out after ${deadlineMs} ms waiting for ${opts.what}`;
  if (opts.logTail !== undefined) {
    msg += `\n--- last ${LOG_TAIL_LINES} log lines ---\n${await readLogTail(opts.logTail)}`;
  }
  throw new Error(msg);
}
