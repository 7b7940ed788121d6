/**
 * @module
 * `LogFile`: one log file written in whole lines with O_APPEND (copytruncate-safe, contract
 * §7.3), rotated by size keeping N files (optionally gzipped), reopened on request (SIGHUP), and
 * fed through a bounded in-memory queue so request handling never waits for the disk: when the
 * queue is full, lines are dropped and counted instead.
 */

import { createRequire } from "node:module";
import { StartupError } from "../errors.ts";
import { openOwnedFile } from "./safe_open.ts";
import { Buffer } from "node:buffer";

/** A log file that cannot be opened (missing or read-only directory): the CLI's exit 1 with a hint. */
export class LogOpenError extends Error {
  override name = "LogOpenError";
}

/** Options of one log file. */
export interface LogFileOptions {
  /** Rotate before a write would make the file larger than this; 0 disables rotation. */
  readonly maxBytes: number;
  /** Rotated files kept: `<path>.1` (newest) … `<path>.<keep>`. */
  readonly keep: number;
  /** Gzip rotated files to `<path>.N.gz`. */
  readonly compress: boolean;
  /** Most lines queued in memory; more are dropped and counted. */
  readonly maxQueued: number;
  /** Most characters queued in memory (default MAX_QUEUED_CHARS); more are dropped and counted. */
  readonly maxQueuedChars?: number;
}

/**
 * Characters a log queue holds at most while the disk is slow: 10,000 lines of up to 16 KiB each
 * would be 160 MB or more (issue #17 item 3), so the queue is bounded in size as well as in lines.
 */
export const MAX_QUEUED_CHARS = 8 * 1024 * 1024;

/** Counters of one log file, for `system.metrics` and `/metrics`. */
export interface LogFileStats {
  readonly path: string;
  readonly written: number;
  readonly dropped: number;
  readonly rotations: number;
  readonly queued: number;
  readonly lastError: string | null;
}

/** What happened to a log file's path from outside: gone, or another file there now. */
export type LogPathChange = "moved or removed" | "replaced";

const enc = new TextEncoder();

/**
 * Finishes a gzip rotation a crash (SIGKILL) interrupted: `<path>.rotating` is the file that was
 * being compressed. When `<path>.1.gz` already holds exactly its lines, the leftover goes;
 * otherwise (missing, empty or corrupt `.1.gz`) it is compressed into `.1.gz` again. A partial
 * `<path>.1.gz.tmp` is removed. Returns what was done, for the log; never throws.
 */
export function recoverRotation(path: string): string | undefined {
  const tmp = `${path}.rotating`;
  const gz = `${path}.1.gz`;
  try {
    Deno.removeSync(`${gz}.tmp`);
  } catch { /* none */ }
  let data: Uint8Array;
  try {
    data = Deno.readFileSync(tmp);
  } catch {
    return undefined;
  }
  // node:zlib costs ~15 ms at start-up; it is loaded only when there is something to recover.
  const { gunzipSync, gzipSync } = createRequire(import.meta.url)(
    "node:zlib",
  ) as typeof import("node:zlib");
  try {
    let complete = false;
    try {
      const old = gunzipSync(Deno.readFileSync(gz));
      complete = old.length === data.length && Buffer.compare(old, data) === 0;
    } catch { /* missing or corrupt */ }
    if (!complete) {
      const out = Deno.openSync(`${gz}.tmp`, { write: true, createNew: true, mode: 0o640 });
      try {
        const z = gzipSync(data);
        let off = 0;
        while (off < z.length) off += out.writeSync(z.subarray(off));
      } finally {
        out.close();
      }
      Deno.renameSync(`${gz}.tmp`, gz);
    }
    Deno.removeSync(tmp);
    return complete
      ? `removed ${tmp}, left by an interrupted rotation (${gz} was complete)`
      : `recovered ${tmp}, left by an interrupted rotation, into ${gz} (${data.length} bytes)`;
  } catch (err) {
    return `could not recover ${tmp}: ${err instanceof Error ? err.message : err}`;
  }
}

/**
 * Opens a file for appending, creating it; never through a planted symbolic link or into another
 * user's file (`openOwnedFile`).
 */
function openAppend(path: string): Deno.FsFile {
  return openOwnedFile(path, { append: true }, 0o640, "log file");
}

/** A rotating, non-blocking log file, or stderr when `path` is "-". */
export class LogFile {
  readonly path: string;
  /** What start-up recovery of an interrupted rotation did (undefined: nothing to do). */
  recovered: string | undefined;
  readonly #opts: LogFileOptions;
  #file: Deno.FsFile | null;
  #size = 0;
  #queue: string[] = [];
  #queuedChars = 0;
  #pumping: Promise<void> | null = null;
  #reopen = false;
  /** Lines queued before a reopen was asked for: they still belong to the old file. */
  #oldLines = 0;
  #written = 0;
  #dropped = 0;
  #rotations = 0;
  #rotating = false;
  #lastError: string | null = null;

  /**
   * Opens (creating) the file now, so a missing or unwritable directory fails at start-up.
   *
   * @throws {LogOpenError} "Cannot open log file <path>: <reason>"
   */
  constructor(path: string, opts: LogFileOptions) {
    this.path = path;
    this.#opts = opts;
    if (path === "-") {
      this.#file = null;
      return;
    }
    try {
      this.recovered = recoverRotation(path);
      this.#file = openAppend(path);
      this.#size = this.#file.statSync().size;
    } catch (err) {
      if (err instanceof StartupError) throw err;
      throw new LogOpenError(
        `Cannot open log file ${path}: ${err instanceof Error ? err.message : err}`,
      );
    }
  }

  /** Queues one complete line (ending in "\n"). Never blocks; drops when the queue is full. */
  write(line: string): void {
    const maxChars = this.#opts.maxQueuedChars ?? MAX_QUEUED_CHARS;
    if (
      this.#queue.length >= this.#opts.maxQueued ||
      (this.#queue.length > 0 && this.#queuedChars + line.length > maxChars)
    ) {
      this.#dropped++;
      return;
    }
    this.#queue.push(line);
    this.#queuedChars += line.length;
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = null;
      if (this.#queue.length > 0) {
        this.#pumping ??= this.#pump().finally(() => (this.#pumping = null));
      }
    });
  }

  /**
   * Asks for the file to be reopened (after an external rotation). Lines logged before the request
   * are written to the old file first, so "reopening log files" ends the rotated one.
   */
  reopen(): void {
    if (this.#queue.length === 0) this.#reopen = true;
    else this.#oldLines = this.#queue.length;
  }

  /**
   * Whether the path still names the open file (the janitor asks every few seconds). When the file
   * was moved or removed from outside (logrotate without copytruncate or SIGHUP), a reopen is
   * queued as for SIGHUP and the reason returned; undefined when nothing changed, for stderr, and
   * while this file rotates itself.
   */
  async checkPath(): Promise<LogPathChange | undefined> {
    const f = this.#file;
    if (this.path === "-" || f === null || this.#rotating) return undefined;
    let open: Deno.FileInfo, named: Deno.FileInfo | undefined;
    try {
      open = await f.stat();
      named = await Deno.stat(this.path).catch((err) => {
        if (err instanceof Deno.errors.NotFound) return undefined;
        throw err;
      });
    } catch {
      return undefined; // closed meanwhile, or the path cannot be read: nothing to conclude
    }
    if (f !== this.#file || this.#rotating) return undefined;
    const reason = named === undefined
      ? "moved or removed"
      : named.ino !== open.ino || named.dev !== open.dev
      ? "replaced"
      : undefined;
    if (reason) this.reopen();
    return reason;
  }

  stats(): LogFileStats {
    return {
      path: this.path,
      written: this.#written,
      dropped: this.#dropped,
      rotations: this.#rotations,
      queued: this.#queue.length,
      lastError: this.#lastError,
    };
  }

  /** Resolves when every queued line has been written (or dropped). */
  async flush(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    try {
      this.#file?.close();
    } catch { /* already closed */ }
    this.#file = null;
  }

  async #pump(): Promise<void> {
    while (this.#queue.length > 0) {
      const old = this.#oldLines > 0;
      const lines = this.#queue.splice(0, old ? Math.min(512, this.#oldLines) : 512);
      for (const l of lines) this.#queuedChars -= l.length;
      if (old) this.#oldLines -= lines.length;
      const data = enc.encode(lines.join(""));
      try {
        await this.#writeBatch(data, lines);
        this.#written += lines.length;
        this.#lastError = null;
      } catch (err) {
        this.#dropped += lines.length;
        this.#lastError = err instanceof Error ? err.message : String(err);
        this.#reopen = true;
      }
      if (old && this.#oldLines === 0) this.#reopen = true;
    }
  }

  async #writeBatch(data: Uint8Array, lines: string[]): Promise<void> {
    if (this.path === "-") {
      await writeFully(Deno.stderr, data);
      return;
    }
    if (this.#reopen || this.#file === null) this.#doReopen();
    // Someone may have truncated the file (copytruncate) or rotated it: trust the file's size.
    this.#size = (await this.#file!.stat()).size;
    const max = this.#opts.maxBytes;
    if (max <= 0 || this.#size + data.length <= max) {
      await writeFully(this.#file!, data);
      this.#size += data.length;
      return;
    }
    // Rotate on line boundaries: no file grows past maxBytes unless one line alone does.
    let rest = lines;
    while (rest.length > 0) {
      let fit = 0, bytes = 0;
      for (const l of rest) {
        const b = enc.encode(l).length;
        if (this.#size + bytes + b > max && !(fit === 0 && this.#size === 0)) break;
        bytes += b;
        fit++;
      }
      if (fit > 0) {
        await writeFully(this.#file!, enc.encode(rest.slice(0, fit).join("")));
        this.#size += bytes;
        rest = rest.slice(fit);
      }
      if (rest.length > 0) await this.#rotate();
    }
  }

  #doReopen(): void {
    try {
      this.#file?.close();
    } catch { /* ignore */ }
    this.#file = null;
    this.#file = openAppend(this.path);
    this.#size = this.#file.statSync().size;
    this.#reopen = false;
  }

  async #rotate(): Promise<void> {
    this.#rotating = true;
    try {
      await this.#rotateFiles();
    } finally {
      this.#rotating = false;
    }
  }

  async #rotateFiles(): Promise<void> {
    const { keep, compress } = this.#opts;
    const ext = compress ? ".gz" : "";
    try {
      this.#file?.close();
    } catch { /* ignore */ }
    this.#file = null;
    if (keep <= 0) {
      await Deno.truncate(this.path, 0);
    } else {
      await Deno.remove(`${this.path}.${keep}${ext}`).catch(() => {});
      for (let k = keep - 1; k >= 1; k--) {
        await Deno.rename(`${this.path}.${k}${ext}`, `${this.path}.${k + 1}${ext}`).catch(() => {});
      }
      if (compress) {
        const tmp = `${this.path}.rotating`;
        await Deno.rename(this.path, tmp);
        this.#file = openAppend(this.path);
        this.#size = 0;
        await gzipFile(tmp, `${this.path}.1.gz`);
      } else {
        await Deno.rename(this.path, `${this.path}.1`);
      }
    }
    this.#rotations++;
    this.#file ??= openAppend(this.path);
    this.#size = 0;
  }
}

async function writeFully(
  w: { write(p: Uint8Array): Promise<number> },
  data: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < data.length) off += await w.write(data.subarray(off));
}

/** Compresses `src` to `dst` through `<dst>.tmp`: `dst` is never seen empty or partial. */
async function gzipFile(src: string, dst: string): Promise<void> {
  const part = `${dst}.tmp`;
  await Deno.remove(part).catch(() => {});
  const input = await Deno.open(src, { read: true });
  const output = await Deno.open(part, { write: true, createNew: true, mode: 0o640 });
  await input.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(output.writable);
  await Deno.rename(part, dst);
  await Deno.remove(src);
}
