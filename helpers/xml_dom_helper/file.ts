/**
 * @module
 * `readXmlFile`: reads and parses an XML file named by Perl code, relative to the caller's
 * working directory (helpers contract §2.4), with errors a Perl programmer can act on.
 */

import type { CallContext } from "../types.ts";
import { decodeXmlBytes, parseXml } from "./dom.ts";
import type { ParsedXml } from "./dom.ts";

/** File outcome: the parsed document and absolute path, or an error (`notFound` for open errors). */
export type FileOutcome =
  | { ok: true; value: ParsedXml; path: string }
  | { ok: false; error: string; openError: boolean };

/** Reads `filename` (resolved against the caller's cwd) and parses it strictly. */
export async function readXmlFile(filename: unknown, ctx: CallContext): Promise<FileOutcome> {
  if (typeof filename !== "string" || filename === "") {
    return { ok: false, error: "Missing filename", openError: true };
  }
  const path = await ctx.resolvePath(filename);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "No such file or directory"
      : err instanceof Deno.errors.PermissionDenied
      ? "Permission denied"
      : err instanceof Deno.errors.IsADirectory
      ? "Is a directory"
      : (err as Error).message;
    return { ok: false, error: `Cannot open ${path}: ${why}`, openError: true };
  }
  const text = decodeXmlBytes(bytes);
  if (!text.ok) return { ok: false, error: `${text.error} (${path})`, openError: false };
  const parsed = parseXml(text.text);
  if (!parsed.ok) return { ok: false, error: `${parsed.error} (${path})`, openError: false };
  return { ok: true, value: parsed.value, path };
}
