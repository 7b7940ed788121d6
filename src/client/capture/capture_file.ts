/**
 * @module
 * The capture file of `cpan-bridge proxy`: one JSON line per request (time, duration, request
 * and reply as the upstream daemon saw and sent them, secrets redacted as in the logs), rotated
 * to `<file>.1` when it would pass its size limit, so a long capture cannot fill the disk.
 */

import { redact } from "../../log/format.ts";

/** One captured exchange. */
export interface CaptureRecord {
  /** ISO time the request arrived. */
  readonly ts: string;
  /** Milliseconds from the first request byte to the last reply byte. */
  readonly ms: number;
  /** The request as JSON (redacted), or its text when it did not parse. */
  readonly request: unknown;
  readonly reply: unknown;
  readonly request_bytes: number;
  readonly reply_bytes: number;
  /** True when a side was longer than the capture keeps: not replayable. */
  readonly truncated: boolean;
}

const decoder = new TextDecoder();

/** Parses captured bytes as JSON where possible; redacts secrets; strings are never shortened. */
export function captureValue(bytes: Uint8Array): unknown {
  const text = decoder.decode(bytes);
  try {
    return redact(JSON.parse(text), Number.MAX_SAFE_INTEGER);
  } catch {
    return text;
  }
}

/** Appends records to a capture file, rotating it at `maxBytes`. */
export class CaptureWriter {
  readonly #path: string;
  readonly #maxBytes: number;
  #file: Deno.FsFile | undefined;
  #size = 0;
  #chain: Promise<void> = Promise.resolve();
  /** Records written. */
  written = 0;

  constructor(path: string, maxBytes: number) {
    this.#path = path;
    this.#maxBytes = maxBytes;
  }

  async #open(): Promise<Deno.FsFile> {
    if (this.#file) return this.#file;
    this.#file = await Deno.open(this.#path, { append: true, create: true, mode: 0o600 });
    this.#size = (await this.#file.stat()).size;
    return this.#file;
  }

  /** Queues one record; records are written in order, one line each. */
  append(record: CaptureRecord): Promise<void> {
    const line = new TextEncoder().encode(JSON.stringify(record) + "\n");
    // A failed write (full disk, removed directory) fails that record only, not every later one.
    this.#chain = this.#chain.catch(() => {}).then(async () => {
      let f = await this.#open();
      if (this.#size > 0 && this.#size + line.length > this.#maxBytes) {
        f.close();
        this.#file = undefined;
        await Deno.rename(this.#path, `${this.#path}.1`);
        f = await this.#open();
      }
      let off = 0;
      while (off < line.length) off += await f.write(line.subarray(off));
      this.#size += line.length;
      this.written++;
    });
    return this.#chain;
  }

  async close(): Promise<void> {
    await this.#chain.catch(() => {});
    this.#file?.close();
    this.#file = undefined;
  }
}

/** Reads a capture file's records (bad lines are counted, not fatal). */
export async function readCapture(
  path: string,
): Promise<{ records: CaptureRecord[]; badLines: number }> {
  const text = await Deno.readTextFile(path);
  const records: CaptureRecord[] = [];
  let badLines = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line) as CaptureRecord);
    } catch {
      badLines++;
    }
  }
  return { records, badLines };
}
