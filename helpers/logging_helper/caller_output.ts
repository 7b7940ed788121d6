/**
 * @module
 * Writing log lines to the Perl CALLER's own stdout/stderr (fd 1 or 2 of the PID in `request_id`,
 * only for a process of the daemon's own uid), the way the caller's Perl would have written them.
 * What Perl does depends on what the fd is, so that decides when bytes go out:
 * - a terminal or other character device: STDOUT is line-buffered, STDERR unbuffered: at once;
 * - a regular file (`>` or `>>`) or a pipe: STDERR at once; STDOUT block-buffered by Perl
 *   (8192-byte chunks, the rest when the caller exits), unless the appender has `autoflush`.
 * A regular file is written through the caller's OWN open file description, duplicated with
 * pidfd_getfd (caller_fd.ts) when a line first goes to it: the writes move the offset the caller
 * and any shell sharing the description (`sh -c 'perl job.pl; echo done' > job.log`) write at,
 * so nothing written by either is overwritten, even after the caller exited or at daemon
 * shutdown. A pipe or terminal (no offset) is opened through `/proc/<pid>/fd/N`.
 * Held bytes are flushed when the caller exits (polled every POLL_MS while any stream is open),
 * at daemon shutdown, after HOLD_LIMITS.holdMs (then later lines go at once), and whenever the
 * worker's total would pass HOLD_LIMITS.totalBytes. The duplicate or open fd is kept while lines
 * are held, so a pipe's reader cannot see end-of-file before the last line.
 */

import { concatBytes, perlErrno } from "../types.ts";
import type { HandleTable } from "../types.ts";
import type { CallContext, Clock } from "../types.ts";
import { closeFd, dupCallerFd, writeFd } from "./caller_fd.ts";
import { processUids, startTime } from "./caller_proc.ts";

/** When Perl would put this stream's bytes into the file. */
export type Timing = "now" | "chunks";

/** Perl's STDOUT buffer size (PerlIO's default). */
export const PERL_BUFSIZ = 8192;
/** Most caller streams held open at once (per worker). */
export const MAX_STREAMS = 256;
/** How often a caller holding lines is checked for having exited. */
export const POLL_MS = 20;
/**
 * Bounds on holding (per worker; mutable for tests): the most bytes held over all streams, and
 * how long a running caller's lines are held before they (and later lines) go out at once.
 */
export const HOLD_LIMITS = { totalBytes: 1024 * 1024, holdMs: 60_000 };

/** Where a stream's bytes go: the caller's own description (regular files) or a /proc open. */
type Sink = { readonly dup: number } | { readonly file: Deno.FsFile };

interface Stream {
  /** `<pid>:<fd>`, its id in the table. */
  readonly key: string;
  readonly pid: number;
  readonly fd: number;
  /** /proc/<pid>/stat starttime: tells the caller from a later process with its PID. */
  readonly started: string;
  timing: Timing;
  readonly sink: Sink;
  held: Uint8Array[];
  heldBytes: number;
  /** When the oldest held byte was held (`clock.now()`), 0 when nothing is held. */
  heldSince: number;
  /** The daemon's clock (from the call that opened the stream; the poller has no call). */
  readonly clock: Clock;
}

/** Why a line could not go to the caller (the wrapper then prints its own fallback line). */
export type OutputError = { readonly error: string };

/** Bytes held over all streams of this worker. */
let heldTotal = 0;

/** The bytes held over all streams of this worker (for tests and the docs' bound). */
export function heldBytesTotal(): number {
  return heldTotal;
}

function streamName(fd: number): string {
  return fd === 1 ? "stdout" : fd === 2 ? "stderr" : `fd ${fd}`;
}

/** Writes all of `data` to the sink; a failure is returned with its reason. */
async function writeSink(s: { sink: Sink; fd: number }, data: Uint8Array) {
  const fail = (why: string): OutputError => ({
    error: `Cannot write to the caller's ${streamName(s.fd)}: ${why}`,
  });
  if ("dup" in s.sink) {
    const err = writeFd(s.sink.dup, data);
    return err ? fail(err.error) : undefined;
  }
  try {
    for (let off = 0; off < data.length;) off += await s.sink.file.write(data.subarray(off));
    return undefined;
  } catch (e) {
    return fail(perlErrno(e));
  }
}

function closeSink(sink: Sink): void {
  if ("dup" in sink) closeFd(sink.dup);
  else sink.file.close();
}

function takeHeld(s: Stream): Uint8Array {
  const all = concatBytes(s.held);
  heldTotal -= s.heldBytes;
  s.held = [];
  s.heldBytes = 0;
  s.heldSince = 0;
  return all;
}

/**
 * Open streams (those holding or buffering lines), each with the table view (its caller's) that
 * can close it. One poller for all of them, running only while there are any.
 */
const OPEN = new Map<Stream, HandleTable<Stream>>();
let poller: ReturnType<typeof setInterval> | undefined;
let polling = false;

function startPolling() {
  if (poller !== undefined) return;
  const timer = setInterval(() => void pollOnce(), POLL_MS);
  Deno.unrefTimer(timer);
  poller = timer;
}

function stopPollingIfIdle() {
  if (OPEN.size > 0 || poller === undefined) return;
  clearInterval(poller);
  poller = undefined;
}

async function pollOnce() {
  if (polling) return;
  polling = true;
  try {
    await flushExitedStreams();
  } finally {
    polling = false;
    stopPollingIfIdle();
  }
}

/**
 * Flushes and closes the streams of callers that have exited (stderr before stdout), and flushes
 * the lines held longer than HOLD_LIMITS.holdMs for callers still running (their later lines then
 * go out at once).
 */
async function flushExitedStreams(): Promise<void> {
  const streams = [...OPEN.entries()].sort(([a], [b]) => a.pid - b.pid || b.fd - a.fd);
  const alive = new Map<number, string | undefined>();
  for (const [s, view] of streams) {
    if (!alive.has(s.pid)) alive.set(s.pid, await startTime(s.pid).catch(() => s.started));
    if (alive.get(s.pid) !== s.started) {
      OPEN.delete(s);
      await view.delete(s.key, "caller exited").catch(() => {});
    } else if (s.heldSince > 0 && s.clock.now() - s.heldSince >= HOLD_LIMITS.holdMs) {
      await view.withLock(s.key, async () => {
        s.timing = "now";
        if (s.heldBytes > 0) await writeSink(s, takeHeld(s));
      }).catch(() => {});
    }
  }
}

/** One caller's streams (a view of the daemon's table), with their held lines. */
export class CallerOutputs {
  readonly #table: HandleTable<Stream>;
  readonly #clock: Clock;

  constructor(table: HandleTable<Stream>, clock: Clock) {
    this.#table = table;
    this.#clock = clock;
  }

  /** The caller's view of the daemon's stream table; closing a stream flushes its lines. */
  static of(ctx: CallContext): CallerOutputs {
    const table = ctx.handles<Stream>("caller_streams", {
      prefix: "logout",
      perClient: false, // at most one per stream of a caller
      idleTtlMs: 0,
      dispose: async (s) => {
        OPEN.delete(s);
        await flushAndClose(s);
        stopPollingIfIdle();
      },
    });
    return new CallerOutputs(table, ctx.clock);
  }

  /** Flushes the lines held for callers that have exited (the janitor's backstop). */
  static async flushExited(): Promise<void> {
    await flushExitedStreams();
    stopPollingIfIdle();
  }

  /** Writes (or holds) `data` for fd `fd` of process `pid`, as that process's Perl would. */
  async write(
    pid: number | undefined,
    fd: number,
    data: Uint8Array,
    autoflush: boolean,
  ): Promise<OutputError | undefined> {
    if (pid === undefined) {
      return { error: `The caller's PID is unknown (no request_id), cannot reach its stdout` };
    }
    const key = `${pid}:${fd}`;
    let s = this.#table.get(key);
    let started: string | undefined;
    try {
      started = await startTime(pid);
    } catch (e) {
      return { error: `Cannot look up the caller (PID ${pid}) in /proc: ${perlErrno(e)}` };
    }
    if (s && s.started !== started) {
      await this.#table.delete(key, "caller exited");
      s = undefined;
    }
    if (!s) {
      const opened = await this.#open(pid, fd, started, autoflush);
      if ("error" in opened) return opened;
      if (opened.timing === "now") {
        try {
          return await writeSink(opened, data);
        } finally {
          closeSink(opened.sink);
        }
      }
      // Another call of the same caller may have opened it meanwhile: keep one stream.
      s = this.#table.get(key);
      if (s) {
        closeSink(opened.sink);
      } else {
        s = opened;
        this.#table.add(s, key);
        OPEN.set(s, this.#table); // watched until its caller exits, then flushed and closed
        startPolling();
      }
    }
    const stream = s;
    try {
      return await this.#table.withLock(key, () => put(stream, data));
    } catch (e) {
      return { error: `Cannot write to the caller's ${streamName(fd)}: ${perlErrno(e)}` };
    }
  }

  async #open(
    pid: number,
    fd: number,
    started: string | undefined,
    autoflush: boolean,
  ): Promise<Stream | OutputError> {
    const name = streamName(fd);
    const path = `/proc/${pid}/fd/${fd}`;
    if (started === undefined) return { error: `The caller (PID ${pid}) has exited` };
    if (this.#table.size >= MAX_STREAMS) {
      return { error: `Too many caller streams open (${MAX_STREAMS}); not writing to ${path}` };
    }
    let info: Deno.FileInfo;
    try {
      // contract: write only to processes of the daemon's own uid.
      if ((await processUids(pid)).some((uid) => uid !== Deno.uid())) {
        return {
          error: `The caller (PID ${pid}) runs as another user; not writing to its ${name}`,
        };
      }
      info = await Deno.stat(path);
    } catch (e) {
      return { error: `Cannot reach the caller's ${name} (${path}): ${perlErrno(e)}` };
    }
    const buffered = (info.isFile || info.isFifo || info.isSocket) && fd === 1 && !autoflush;
    const timing: Timing = buffered ? "chunks" : "now";
    const base = {
      key: `${pid}:${fd}`,
      pid,
      fd,
      started,
      timing,
      held: [],
      heldBytes: 0,
      clock: this.#clock,
    };
    if (info.isFile) {
      const dup = dupCallerFd(pid, fd);
      if (typeof dup !== "number") {
        return { error: `Cannot share the caller's ${name} (${path}): ${dup.error}` };
      }
      // The PID could have been reused between the checks and pidfd_open: check it again.
      if ((await startTime(pid).catch(() => undefined)) !== started) {
        closeFd(dup);
        return { error: `The caller (PID ${pid}) has exited` };
      }
      return { ...base, sink: { dup }, heldSince: 0 };
    }
    try {
      const file = await Deno.open(path, { write: true, append: true });
      return { ...base, sink: { file }, heldSince: 0 };
    } catch (e) {
      return { error: `Cannot open the caller's ${name} (${path}): ${perlErrno(e)}` };
    }
  }
}

/** Writes or holds `data` on an open stream (under its lock). */
async function put(s: Stream, data: Uint8Array): Promise<OutputError | undefined> {
  if (s.timing === "now") return await writeSink(s, data);
  if (heldTotal + data.length > HOLD_LIMITS.totalBytes) {
    // The worker's bound: what this stream holds, and the line, go out now.
    const all = s.heldBytes > 0 ? concatBytes([takeHeld(s), data]) : data;
    return await writeSink(s, all);
  }
  s.held.push(data);
  s.heldBytes += data.length;
  heldTotal += data.length;
  if (s.heldSince === 0) s.heldSince = s.clock.now();
  if (s.heldBytes >= PERL_BUFSIZ) {
    const all = takeHeld(s);
    const n = all.length - (all.length % PERL_BUFSIZ);
    if (n < all.length) {
      s.held = [all.slice(n)];
      s.heldBytes = all.length - n;
      heldTotal += s.heldBytes;
      s.heldSince = s.clock.now();
    }
    return await writeSink(s, all.subarray(0, n));
  }
  return undefined;
}

async function flushAndClose(s: Stream): Promise<void> {
  try {
    if (s.heldBytes > 0) await writeSink(s, takeHeld(s));
  } finally {
    closeSink(s.sink);
  }
}
