/**
 * @module
 * `readXmlFile`: reads and parses an XML file named by Perl code, relative to the caller's
 * working directory (helpers contract §2.4). Only regular files, never more than
 * CPAN_BRIDGE_MAX_FILE_BYTES (`readRegularFile`); the bytes are decoded by the file's own
 * encoding (`documentFromFile`), as expat reads a file.
 */

import type { CallContext } from "../types.ts";
import { FileReadError, perlText, readRegularFile } from "../types.ts";
import { parseXml } from "./dom.ts";
import type { ParsedXml, ParseOptions } from "./dom.ts";
import { documentFromFile } from "./document_bytes.ts";

/** File outcome: the parsed document and absolute path, or an error (`openError` when unread). */
export type FileOutcome =
  | { ok: true; value: ParsedXml; path: string }
  | { ok: false; error: string; openError: boolean; kind?: FileReadError["kind"] };

/**
 * Reads `filename` (resolved against the caller's cwd) and parses it strictly. `missing` words
 * the error for a file that does not exist, as the replaced module does.
 */
export async function readXmlFile(
  filename: unknown,
  ctx: CallContext,
  missing: (filename: string) => string,
  opts: ParseOptions = {},
): Promise<FileOutcome> {
  if (typeof filename !== "string" || filename === "") {
    return { ok: false, error: "Missing filename", openError: true };
  }
  // A file name is bytes to Perl's open(): a UTF-8 byte string names the same file as text.
  const path = await ctx.resolvePath(perlText(filename));
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, ctx.settings.maxFileBytes);
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    const error = err.kind === "not_found" ? missing(filename) : err.message;
    return { ok: false, error, openError: true, kind: err.kind };
  }
  const text = documentFromFile(bytes, opts.encoding);
  if (!text.ok) {
    return { ok: false, error: `Cannot parse XML: ${text.error} (${path})`, openError: false };
  }
  const parsed = parseXml(text.text, opts);
  if (!parsed.ok) return { ok: false, error: `${parsed.error} (${path})`, openError: false };
  return { ok: true, value: parsed.value, path };
}
