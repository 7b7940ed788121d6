/**
 * @module
 * Where XMLin's XML comes from. XML::Simple treats a source containing `<…>` as XML text and
 * anything else as a file name, looked up in SearchPath when it has no directory part, else
 * relative to the current directory: here the CALLER's (helpers contract §2.4). Files are decoded
 * as libxml does: BOM, else the declared encoding, else UTF-8 (invalid bytes are an error, not a
 * silent Latin-1 fallback as in the old Python helper).
 */

import type { CallContext } from "../types.ts";
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
  if (sourceType === "string" || /<.*?>/s.test(text)) return text;
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
  return decodeXmlBytes(await readBytes(path), path);
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
    const path = await ctx.resolvePath(file);
    if (await exists(path)) return path;
  } else {
    for (const dir of searchPath) {
      const path = await ctx.resolvePath(`${dir.replace(/\/+$/, "")}/${file}`);
      if (await exists(path)) return path;
    }
  }
  if (searchPath.length === 0) {
    const path = await ctx.resolvePath(file);
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

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new XmlSimpleError(`Cannot read ${path}: Permission denied`, "PermissionError");
    }
    if (err instanceof Deno.errors.NotFound) {
      throw new XmlSimpleError(`File does not exist: ${path}`, "FileNotFoundError");
    }
    if (err instanceof Deno.errors.IsADirectory) {
      throw new XmlSimpleError(`Cannot read ${path}: Is a directory`, "IsADirectoryError");
    }
    throw new XmlSimpleError(`Cannot read ${path}: ${(err as Error).message}`, "OSError");
  }
}

const LATIN1 = new Set(["iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1"]);

/** Decodes an XML file's bytes: BOM, else the declared encoding, else UTF-8 (strictly). */
export function decodeXmlBytes(bytes: Uint8Array, path: string): string {
  let label = "utf-8";
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) label = "utf-16be";
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) label = "utf-16le";
  else {
    const head = latin1(bytes.subarray(0, 200));
    const m = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
    if (m?.[1]) label = m[1].toLowerCase();
  }
  // WHATWG maps "iso-8859-1" to windows-1252; libxml decodes real ISO-8859-1.
  if (LATIN1.has(label)) return latin1(bytes);
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true, ignoreBOM: false });
  } catch {
    throw new XmlSimpleError(
      `Cannot parse XML in ${path}: unsupported encoding "${label}" in its XML declaration`,
      "ParseError",
    );
  }
  try {
    return decoder.decode(start ? bytes.subarray(start) : bytes);
  } catch {
    const at = label === "utf-8" ? ` (first bad byte at offset ${badUtf8Offset(bytes)})` : "";
    throw new XmlSimpleError(
      `Cannot parse XML in ${path}: input is not proper ${label}${at}; ` +
        `declare the file's encoding, e.g. <?xml version="1.0" encoding="ISO-8859-1"?>`,
      "ParseError",
    );
  }
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence. */
function badUtf8Offset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const need = c < 0x80
      ? 0
      : c >= 0xc2 && c <= 0xdf
      ? 1
      : c >= 0xe0 && c <= 0xef
      ? 2
      : c >= 0xf0 && c <= 0xf4
      ? 3
      : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return i;
}
