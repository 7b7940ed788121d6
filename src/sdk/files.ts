/**
 * @module
 * `readRegularFile()`: how a helper reads a whole file named by a Perl caller. Only regular
 * files are read (a FIFO, device or directory gets a clear error instead of a hang or an
 * endless read) and never more than the configured limit (CPAN_BRIDGE_MAX_FILE_BYTES), so
 * `/dev/zero` as an XML source cannot exhaust the host's memory.
 */

import { concatBytes } from "./bytes.ts";

/** Why `readRegularFile()` refused: the caller's text names the file and the limit. */
export class FileReadError extends Error {
  override readonly name = "FileReadError";
  /** "not_found" | "not_regular" | "too_large" | "io". */
  readonly kind: "not_found" | "not_regular" | "too_large" | "io";
  constructor(kind: FileReadError["kind"], message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/**
 * Reads the regular file at `path` whole, refusing anything that is not a regular file or is
 * larger than `maxBytes` (checked before reading and again while reading, for a file that grows).
 *
 * @throws {FileReadError} with a message that names the path and, for size, the limit
 * @example const bytes = await readRegularFile("/etc/app.xml", ctx.settings.maxFileBytes);
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    // O_NONBLOCK-free open of a FIFO would block: look before opening.
    const st = await Deno.stat(path);
    if (!st.isFile) throw notRegular(path, st);
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    if (err instanceof Deno.errors.NotFound) {
      throw new FileReadError("not_found", `No such file or directory: '${path}'`, { cause: err });
    }
    throw new FileReadError("io", `Cannot read '${path}': ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    const st = await file.stat();
    if (!st.isFile) throw notRegular(path, st);
    if (st.size > maxBytes) throw tooLarge(path, maxBytes);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      total += n;
      if (total > maxBytes) throw tooLarge(path, maxBytes);
      chunks.push(buf.slice(0, n));
    }
    return concatBytes(chunks);
  } finally {
    file.close();
  }
}

function notRegular(path: string, st: Deno.FileInfo): FileReadError {
  const what = st.isDirectory ? "a directory" : "not a regular file";
  return new FileReadError("not_regular", `Cannot read '${path}': ${what}`);
}

function tooLarge(path: string, maxBytes: number): FileReadError {
  return new FileReadError(
    "too_large",
    `Cannot read '${path}': larger than ${maxBytes} bytes (CPAN_BRIDGE_MAX_FILE_BYTES)`,
  );
}
