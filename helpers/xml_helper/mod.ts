/**
 * @module
 * `xml_helper` (alias `xml`, the name XMLHelper.pm sends): replaces XML::Simple 2.25 (helpers
 * contract §3.13). Stateless; wrapped results (`{success, result}`), expected failures returned as
 * `{success:false, error, error_type}`.
 *
 * The conversion follows the real module, not the old Python helper (which prefixed attributes
 * with `@`, trimmed text, ignored KeyAttr/ForceArray and stripped an extra level for
 * `KeepRoot => 0`): XMLHelper.pm passes `result` through untouched, and the code it serves was
 * written against XML::Simple. One Python convention is kept because the wrapper needs it:
 * `escape_xml`/`unescape_xml` return the string in `result`.
 */

import type { CallContext } from "../types.ts";
import { defineHelper, failure, fn, perlErrno, perlText, wrapped } from "../types.ts";
import { handleOptions, XmlSimpleError } from "./options.ts";
import { readSource } from "./source.ts";
import { escapeValue, perlString, unescapeValue } from "./text.ts";
import { parseDocument, simplify } from "./xml_in.ts";
import { xmlOut } from "./xml_out.ts";

function fail(err: unknown, fn: string) {
  if (err instanceof XmlSimpleError) return failure(err.message, { error_type: err.errorType });
  // Anything else is a bug here, not the caller's data; still returned so the client does not
  // re-send the call three times (contract §1).
  return failure(`${fn} failed: ${(err as Error)?.message ?? err}`, { error_type: "RuntimeError" });
}

/**
 * XMLout's `open(my $out, '>', $file)` + `binmode ':utf8'`: the characters as UTF-8 (a byte
 * string's characters each become their UTF-8, exactly as the module writes them). A FIFO or
 * device (other than /dev/null) is refused: opening one could block the daemon.
 */
async function writeOutputFile(name: string, path: string, xml: string): Promise<void> {
  try {
    const st = await Deno.stat(path);
    if (!st.isFile && path !== "/dev/null") {
      throw new XmlSimpleError(
        `open(${name}): ${st.isDirectory ? "Is a directory" : "not a regular file"}`,
        "OSError",
      );
    }
  } catch (err) {
    if (err instanceof XmlSimpleError) throw err;
    // Not there yet: open creates it.
  }
  try {
    await Deno.writeTextFile(path, xml);
  } catch (err) {
    throw new XmlSimpleError(`open(${name}): ${perlErrno(err)}`, "OSError");
  }
}

/** `XMLin($source, %options)`. */
async function xmlIn(args: Record<string, unknown>, ctx: CallContext) {
  try {
    const opt = handleOptions("in", args.options);
    const text = await readSource(args.source, args.source_type, opt.searchpath, ctx);
    const root = parseDocument(text);
    return wrapped(simplify(root, opt, (m) => ctx.log.warn(`XMLin: ${m}`)));
  } catch (err) {
    return fail(err, "XMLin");
  }
}

/** `XMLout($data, %options)`; with OutputFile the XML is written there and `result` is 1. */
async function xmlOutFn(args: Record<string, unknown>, ctx: CallContext) {
  try {
    if (args.data === undefined || args.data === null) {
      throw new XmlSimpleError("XMLout requires data to convert");
    }
    const opt = handleOptions("out", args.options);
    if (opt.nsexpand) {
      throw new XmlSimpleError(
        "XMLout option NSExpand is not supported by cpan-bridge: write prefixed names (p:name) and xmlns:p attributes instead",
        "NotImplementedError",
      );
    }
    const xml = xmlOut(args.data, opt, (m) => ctx.log.debug(`XMLout: ${m}`));
    if (opt.outputfile === null) return wrapped(xml);
    // A file name is bytes to Perl's open(): a UTF-8 byte string names the same file as text.
    await writeOutputFile(opt.outputfile, await ctx.resolvePath(perlText(opt.outputfile)), xml);
    return wrapped(1);
  } catch (err) {
    return fail(err, "XMLout");
  }
}

export const xmlHelper = defineHelper({
  name: "xml_helper",
  aliases: ["xml"],
  replaces: "XMLHelper.pm (XML::Simple)",
  functions: {
    xml_in: fn(["source", "source_type", "options"], xmlIn),
    xml_out: fn(["data", "options"], xmlOutFn),
    escape_xml: fn(["value"], (args) => wrapped(escapeValue(perlString(args.value)))),
    unescape_xml: fn(["value"], (args) => wrapped(unescapeValue(perlString(args.value)))),
  },
});
