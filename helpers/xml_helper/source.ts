/**
 * @module
 * Where XMLin's XML comes from. XML::Simple treats a source containing `<…>` as XML text and
 * anything else as a file name, looked up in SearchPath when it has no directory part, else
 * relative to the current directory: here the CALLER's (helpers contract §2.4). Strings and files
 * are both bytes to the parser, decoded as libxml does: BOM, else the declared encoding, else
 * UTF-8 (`document_bytes.ts`; file names are bytes to Perl, so a UTF-8 byte string names the file
 * its text names: `perlText`; invalid bytes in a file are an error, not a silent Latin-1
 * fallback as in the old Python helper). Files are read bounded, regular files only.
 */

import type { CallContext } from "../types.ts";
import { FileReadError, perlText, readRegularFile } from "../types.ts";
import type { DecodedDocument } from "../xml_dom_helper/document_bytes.ts";
import { documentFromFile, documentFromPerl } from "../xml_dom_helper/document_bytes.ts";
import { XmlSimpleError } from "./options.ts";

/** Returns the XML text of an XMLin source, or throws an `XmlSimpleError`. */
export async function readSource(
  source: unknown,
  sourceType: unknown,
  searchPath: readonly string[],
  ctx: CallContext,
): Promise<string> {
  if (source === undefined || source === null) {
    throw new XmlSimpleError("XMLin requires a source parameter");
  }
  if (sourceType === "filehandle" || typeof source === "object") {
    throw new XmlSimpleError(
      "Cannot read XML from a filehandle through cpan-bridge: read it into a string first " +
        "(my $xml = do { local $/; <$fh> }) and pass the string",
      "NotImplementedError",
    );
  }
  const text = String(source);
  if (sourceType === "string" || /<.*?>/s.test(text)) return decoded(documentFromPerl(text), "");
  if (sourceType === "url" || /^https?:\/\//i.test(text)) {
    throw new XmlSimpleError(
      `Cannot read XML from a URL (${text}): XML::Simple reads strings and files only; ` +
        "fetch the document first (e.g. with HTTPHelper) and pass its content",
      "NotImplementedError",
    );
  }
  if (text === "-") {
    throw new XmlSimpleError(
      "Cannot read XML from STDIN through cpan-bridge: read it into a string and pass that",
      "NotImplementedError",
    );
  }
  const path = await findXmlFile(text, searchPath, ctx);
  return decoded(documentFromFile(await readBytes(path, ctx.settings.maxFileBytes)), ` in ${path}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** XML::Simple `find_xml_file`, with relative names resolved against the caller's cwd. */
async function findXmlFile(
  file: string,
  searchPath: readonly string[],
  ctx: CallContext,
): Promise<string> {
  if (file.includes("/")) {
    const path = await ctx.resolvePath(perlText(file));
    if (await exists(path)) return path;
  } else {
    for (const dir of searchPath) {
      const path = await ctx.resolvePath(perlText(`${dir.replace(/\/+$/, "")}/${file}`));
      if (await exists(path)) return path;
    }
  }
  if (searchPath.length === 0) {
    const path = await ctx.resolvePath(perlText(file));
    if (await exists(path)) return path;
    throw new XmlSimpleError(
      `File does not exist: ${file}` + (path === file ? "" : ` (looked for ${path})`),
      "FileNotFoundError",
    );
  }
  throw new XmlSimpleError(
    `Could not find ${file} in ${searchPath.join(":")}` +
      ` (relative directories are taken from the caller's cwd ${await ctx.callerCwd()})`,
    "FileNotFoundError",
  );
}

/** XML::Simple hands the file name to the parser, which reads it raw: here bounded. */
async function readBytes(path: string, maxBytes: number): Promise<Uint8Array> {
  try {
    return await readRegularFile(path, maxBytes);
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    if (err.kind === "not_found") {
      throw new XmlSimpleError(`File does not exist: ${path}`, "FileNotFoundError");
    }
    if (err.kind === "too_large") throw new XmlSimpleError(err.message, "FileTooLargeError");
    if (err.cause instanceof Deno.errors.PermissionDenied) {
      throw new XmlSimpleError(`Cannot read ${path}: Permission denied`, "PermissionError");
    }
    throw new XmlSimpleError(err.message, "OSError");
  }
}

/** The text of a document: its bytes decoded by its own encoding (`document_bytes.ts`). */
function decoded(doc: DecodedDocument, where: string): string {
  if (doc.ok) return doc.text;
  throw new XmlSimpleError(`Cannot parse XML${where}: ${doc.error}`, "ParseError");
}
