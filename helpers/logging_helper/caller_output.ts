/**
 * @module
 * Writing log lines to the Perl CALLER's own stdout/stderr (`/proc/<pid>/fd/N`, the PID in
 * `request_id`, only for a process of the daemon's own uid), the way the caller's Perl would have
 * written them. What Perl does depends on what the fd is, so that decides when bytes go out:
 * - a terminal or other character device: STDOUT is line-buffered, STDERR unbuffered: at once;
 * - a pipe, or a file opened with O_APPEND (`>>`): STDERR at once; STDOUT block-buffered by Perl
 *   (8192-byte chunks, the rest at exit), unless the appender has `autoflush`;
 * - a regular file opened WITHOUT O_APPEND (`script.pl > job.log 2>&1`, how cron runs jobs): the
 *   caller writes at its own file offset, which another process cannot move, so any byte written
 *   before the caller's last write would be overwritten by it. Lines are held and written when the
 *   caller has exited (its final offset is then the end of the file): stderr lines, then stdout
 *   lines, which is where Log4perl's buffered STDOUT lines land too.
 * Held lines are flushed when the caller exits (polled every POLL_MS while any are held), at
 * daemon shutdown, and never exceed MAX_HELD bytes per stream. The open fd is kept while lines are
 * held, so a pipe's reader cannot see end-of-file before the last line.
 */

import { concatBytes } from "../types.ts";
import type { HandleTable } from "../types.ts";
import type { CallContext } from "../types.ts";

/** When Perl would put this stream's bytes into the file. */
export type Timing = "now" | "chunks" | "at_exit";

/** Perl's STDOUT buffer size (PerlIO's default). */
export const PERL_BUFSIZ = 8192;
/** Most bytes held for one stream of one caller. */
export const MAX_HELD = 8 * 1024 * 1024;
/** Most caller streams held open at once. */
export const MAX_STREAMS = 256;
/** How often a caller holding lines is checked for having exited. */
export const POLL_MS = 20;

const O_APPEND = 0o2000;

interface Stream {
  /** `<pid>:<fd>`, its id in the table. */
  readonly key: string;
  readonly pid: number;
  readonly fd: number;
  /** /proc/<pid>/stat starttime: tells the caller from a later process with its PID. */
  readonly started: string;
  readonly timing: Timing;
  readonly file: Deno.FsFile;
  held: Uint8Array[];
  heldBytes: number;
}

/** Why a line could not go to the caller (the wrapper then prints its own fallback line). */
export type OutputError = { readonly error: string };

function streamName(fd: number): string {
  return fd === 1 ? "stdout" : fd === 2 ? "stderr" : `fd ${fd}`;
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "Permission denied";
  return e instanceof Error ? e.message.replace(/ \(os error \d+\).*$/s, "") : String(e);
}

/**
 * The caller's start time, or undefined when it has exited (or is a zombie).
 * @throws when /proc cannot be read (Deno requires --allow-all for /proc/<pid>)
 */
async function startTime(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  return fields[19];
}

/**
 * The real and effective uids of a process (`/proc/<pid>/status`; its /proc directory's owner is
 * root for a process that changed uid, so it cannot be used).
 */
async function processUids(pid: number): Promise<number[]> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  if (!m) throw new Error(`Cannot read the uid of PID ${pid}`);
  return [Number(m[1]), Number(m[2])];
}

async function fdFlags(pid: number, fd: number): Promise<number | undefined> {
  const info = await Deno.readTextFile(`/proc/${pid}/fdinfo/${fd}`).catch(() => "");
  const m = /^flags:\s*([0-7]+)/m.exec(info);
  return m ? parseInt(m[1]!, 8) : undefined;
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await file.write(data.subarray(off));
}

/**
 * Open streams (those holding or buffering lines), each with the table view (its caller's) that
 * can close it. One poller for all of them, running only while there are any.
 */
const HELD = new Map<Stream, HandleTable<Stream>>();
let poller: ReturnType<typeof setInterval> | undefined;
let polling = false;

function startPolling() {
  if (poller !== undefined) return;
  const timer = setInterval(() => void pollOnce(), POLL_MS);
  Deno.unrefTimer(timer);
  poller = timer;
}

function stopPollingIfIdle() {
  if (HELD.size > 0 || poller === undefined) return;
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

/** Flushes and closes the held streams of callers that have exited: stderr before stdout. */
async function flushExitedStreams(): Promise<void> {
  const streams = [...HELD.entries()].sort(([a], [b]) => a.pid - b.pid || b.fd - a.fd);
  const alive = new Map<number, string | undefined>();
  for (const [s, view] of streams) {
    if (!alive.has(s.pid)) alive.set(s.pid, await startTime(s.pid).catch(() => s.started));
    if (alive.get(s.pid) !== s.started) {
      HELD.delete(s);
      await view.delete(s.key, "caller exited").catch(() => {});
    }
  }
}

/** One caller's streams (a view of the daemon's table), with their held lines. */
export class CallerOutputs {
  readonly #table: HandleTable<Stream>;

  constructor(table: HandleTable<Stream>) {
    this.#table = table;
  }

  /** The caller's view of the daemon's stream table; closing a stream flushes its lines. */
  static of(ctx: CallContext): CallerOutputs {
    const table = ctx.handles<Stream>("caller_streams", {
      prefix: "logout",
      idleTtlMs: 0,
      dispose: async (s) => {
        HELD.delete(s);
        await flushAndClose(s);
        stopPollingIfIdle();
      },
    });
    return new CallerOutputs(table);
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
      return { error: `Cannot look up the caller (PID ${pid}) in /proc: ${reason(e)}` };
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
          await writeAll(opened.file, data);
          return undefined;
        } catch (e) {
          return { error: `Cannot write to the caller's ${streamName(fd)}: ${reason(e)}` };
        } finally {
          opened.file.close();
        }
      }
      // Another call of the same caller may have opened it meanwhile: keep one stream.
      s = this.#table.get(key);
      if (s) {
        opened.file.close();
      } else {
        s = opened;
        this.#table.add(s, key);
        HELD.set(s, this.#table); // watched until its caller exits, then flushed and closed
        startPolling();
      }
    }
    const stream = s;
    try {
      return await this.#table.withLock(key, () => this.#put(stream, data));
    } catch (e) {
      return { error: `Cannot write to the caller's ${streamName(fd)}: ${reason(e)}` };
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
      return { error: `Cannot reach the caller's ${name} (${path}): ${reason(e)}` };
    }
    let timing: Timing = "now";
    if (info.isFile) {
      const flags = await fdFlags(pid, fd);
      if (flags === undefined) return { error: `Cannot read the flags of ${path}` };
      timing = (flags & O_APPEND) === 0 ? "at_exit" : fd === 1 && !autoflush ? "chunks" : "now";
    } else if (info.isFifo || info.isSocket) {
      timing = fd === 1 && !autoflush ? "chunks" : "now";
    }
    try {
      const file = await Deno.open(path, { write: true, append: true });
      return { key: `${pid}:${fd}`, pid, fd, started, timing, file, held: [], heldBytes: 0 };
    } catch (e) {
      return { error: `Cannot open the caller's ${name} (${path}): ${reason(e)}` };
    }
  }

  async #put(s: Stream, data: Uint8Array): Promise<OutputError | undefined> {
    if (s.timing === "now") {
      await writeAll(s.file, data);
      return undefined;
    }
    if (s.heldBytes + data.length > MAX_HELD) {
      return {
        error: `More than ${MAX_HELD} bytes of log lines held for the caller's ` +
          `${streamName(s.fd)} until it exits; not holding more`,
      };
    }
    s.held.push(data);
    s.heldBytes += data.length;
    if (s.timing === "chunks" && s.heldBytes >= PERL_BUFSIZ) {
      const all = concatBytes(s.held);
      const n = all.length - (all.length % PERL_BUFSIZ);
      await writeAll(s.file, all.subarray(0, n));
      s.held = n < all.length ? [all.slice(n)] : [];
      s.heldBytes = all.length - n;
    }
    return undefined;
  }
}

async function flushAndClose(s: Stream): Promise<void> {
  try {
    if (s.heldBytes > 0) await writeAll(s.file, concatBytes(s.held));
  } finally {
    s.held = [];
    s.heldBytes = 0;
    s.file.close();
  }
}
