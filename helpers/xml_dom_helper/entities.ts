/**
 * @module
 * Internal general entities (`<!DOCTYPE r [<!ENTITY e "val">]>`), which expat and libxml expand
 * and xmldom rejects ("entity not found"). `expandEntities` reads the internal subset's ENTITY
 * declarations (character references in a literal are replaced when it is read, as XML 1.0 §4.5
 * says) and substitutes `&name;` in the document body outside comments, CDATA sections and
 * processing instructions; the replacement text is expanded again, so it may hold markup and
 * other entities. Recursion and amplification are bounded (expat's own limits: 100× the input
 * once past 8 MiB). `subsetLines` gives the declarations the way XML::DOM's `toString` prints the
 * internal subset.
 */

/** One declaration of the internal subset, in source order. */
export interface SubsetDecl {
  readonly kind: "ENTITY" | "ELEMENT" | "ATTLIST" | "NOTATION";
  /** The declaration as XML::DOM prints it (without the leading space). */
  readonly text: string;
}

/** The expanded document text and the internal subset's declarations. */
export type Expanded =
  | { ok: true; text: string; decls: readonly SubsetDecl[] }
  | { ok: false; error: string };

const NAME = "[\\p{L}_:][\\p{L}\\p{N}_.:\\-\\u00B7]*";
const DECL = new RegExp(
  `<!(ENTITY|ELEMENT|ATTLIST|NOTATION)\\s+((?:"[^"]*"|'[^']*'|[^"'<>])*)>|<!--[\\s\\S]*?-->|<\\?[\\s\\S]*?\\?>`,
  "gu",
);
const ENTITY_BODY = new RegExp(
  `^(%\\s+)?(${NAME})\\s+(?:("[^"]*"|'[^']*')|(SYSTEM|PUBLIC)\\s+((?:"[^"]*"|'[^']*')(?:\\s+(?:"[^"]*"|'[^']*'))?)(?:\\s+NDATA\\s+(${NAME}))?)\\s*$`,
  "u",
);
const ENTITY_REF = new RegExp(`&(${NAME});`, "gu");
/** The largest internal subset read (declarations are scanned with regexes: bounded input). */
export const MAX_SUBSET_CHARS = 1024 * 1024;
const MAX_DEPTH = 40;
const AMPLIFICATION_START = 8 * 1024 * 1024;
const AMPLIFICATION_FACTOR = 100;

/** Where the DOCTYPE's internal subset is: `[start, end)` inside the brackets, and the `>`. */
function findSubset(text: string): { start: number; end: number; close: number } | null {
  // Only in the prolog: before the first start tag.
  const m = /<!DOCTYPE\s/.exec(text);
  if (!m) return null;
  const firstTag = /<[\p{L}_:]/u.exec(text);
  if (firstTag && firstTag.index < m.index) return null;
  let i = m.index + m[0].length;
  let quote = "";
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ">") return null;
    else if (ch === "[") break;
  }
  const start = i + 1;
  quote = "";
  for (i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (text.startsWith("<!--", i)) {
      const e = text.indexOf("-->", i + 4);
      if (e < 0) return null;
      i = e + 2;
    } else if (text.startsWith("<?", i)) {
      const e = text.indexOf("?>", i + 2);
      if (e < 0) return null;
      i = e + 1;
    } else if (ch === "]") {
      const close = text.indexOf(">", i);
      return close < 0 ? null : { start, end: i, close };
    }
  }
  return null;
}

function charRefs(s: string): string {
  return s.replace(/&#(?:x([0-9A-Fa-f]+)|([0-9]+));/g, (whole, hex, dec) => {
    const cp = hex !== undefined ? Number.parseInt(hex, 16) : Number.parseInt(dec, 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
  });
}

/** XML::DOM quotes a literal with `"` unless it holds one. */
function quoted(v: string): string {
  return v.includes('"') ? `'${v}'` : `"${v}"`;
}

/** Expands the document's internal general entities; text without any is returned unchanged. */
export function expandEntities(text: string): Expanded {
  const where = findSubset(text);
  if (!where) return { ok: true, text, decls: [] };
  if (where.end - where.start > MAX_SUBSET_CHARS) {
    return {
      ok: false,
      error: `the DOCTYPE's internal subset is larger than ${MAX_SUBSET_CHARS} characters`,
    };
  }
  const subset = text.slice(where.start, where.end);
  const entities = new Map<string, string>();
  const entityDecls: SubsetDecl[] = [];
  const elementDecls: SubsetDecl[] = [];
  const attlistDecls: SubsetDecl[] = [];
  for (const m of subset.matchAll(DECL)) {
    if (!m[1]) continue; // a comment or PI
    const kind = m[1] as SubsetDecl["kind"];
    const body = m[2]!.trim().replace(/\s+/g, " ");
    if (kind !== "ENTITY") {
      // XML::DOM prints ATTLIST default values single-quoted.
      if (kind === "ATTLIST") {
        attlistDecls.push({ kind, text: `<!${kind} ${body.replace(/"([^"']*)"/g, "'$1'")}>` });
      } else elementDecls.push({ kind, text: `<!${kind} ${body}>` });
      continue;
    }
    const e = ENTITY_BODY.exec(m[2]!.trim());
    if (!e) return { ok: false, error: `syntax error in the DOCTYPE: <!ENTITY ${body}>` };
    const [, percent, name, literal, ext, ids, ndata] = e;
    if (literal !== undefined) {
      const value = charRefs(literal.slice(1, -1));
      // The first declaration binds (XML 1.0 §4.2).
      if (!percent && !entities.has(name!)) entities.set(name!, value);
      entityDecls.push({ kind, text: `<!ENTITY ${percent ? "% " : ""}${name} ${quoted(value)}>` });
    } else {
      const lits = ids!.match(/"[^"]*"|'[^']*'/g)!.map((l) => quoted(l.slice(1, -1)));
      entityDecls.push({
        kind,
        text: `<!ENTITY ${percent ? "% " : ""}${name} ${ext} ${lits.join(" ")}${
          ndata ? ` NDATA ${ndata}` : ""
        }>`,
      });
    }
  }
  const decls = [...entityDecls, ...elementDecls, ...attlistDecls];
  if (entities.size === 0) return { ok: true, text, decls };

  const limit = Math.max(AMPLIFICATION_START, text.length * AMPLIFICATION_FACTOR);
  let produced = 0;
  const expandRefs = (s: string, depth: number, open: ReadonlySet<string>): string =>
    s.replace(ENTITY_REF, (whole, name: string) => {
      if (!entities.has(name)) return whole;
      if (open.has(name)) throw new EntityError(`recursive entity reference: &${name};`);
      if (depth >= MAX_DEPTH) throw new EntityError(`entity nesting deeper than ${MAX_DEPTH}`);
      const out = expand(entities.get(name)!, depth + 1, new Set([...open, name]));
      produced += out.length;
      if (produced > limit) {
        throw new EntityError(
          "limit on input amplification factor (from DTD and entities) breached",
        );
      }
      return out;
    });
  const expand = (s: string, depth: number, open: ReadonlySet<string>): string =>
    splitLiterals(s).map((p) => p.literal ? p.text : expandRefs(p.text, depth, open)).join("");
  try {
    const head = text.slice(0, where.close + 1);
    return { ok: true, text: head + expand(text.slice(where.close + 1), 0, new Set()), decls };
  } catch (err) {
    if (err instanceof EntityError) return { ok: false, error: err.message };
    throw err;
  }
}

class EntityError extends Error {}

/** A piece of document text: inside a comment, CDATA section or PI (`literal`), or not. */
export interface TextPiece {
  readonly text: string;
  readonly literal: boolean;
}

const LITERAL_OPENERS: ReadonlyArray<readonly [string, string]> = [
  ["<!--", "-->"],
  ["<![CDATA[", "]]>"],
  ["<?", "?>"],
];

/**
 * Splits `text` into markup-free pieces and the comments, CDATA sections and PIs where `&…;` is
 * not a reference, in one linear pass (an unterminated one runs to the end).
 */
export function splitLiterals(text: string): TextPiece[] {
  const out: TextPiece[] = [];
  let at = 0;
  let from = 0;
  while (from < text.length) {
    const lt = text.indexOf("<", from);
    if (lt < 0) break;
    const opener = LITERAL_OPENERS.find(([o]) => text.startsWith(o, lt));
    if (!opener) {
      from = lt + 1;
      continue;
    }
    const close = text.indexOf(opener[1], lt + opener[0].length);
    const end = close < 0 ? text.length : close + opener[1].length;
    if (lt > at) out.push({ text: text.slice(at, lt), literal: false });
    out.push({ text: text.slice(lt, end), literal: true });
    at = from = end;
  }
  if (at < text.length) out.push({ text: text.slice(at), literal: false });
  return out;
}

/** The internal subset as XML::DOM's `toString` prints it: one declaration per line. */
export function subsetText(decls: readonly SubsetDecl[]): string {
  return "\n" + decls.map((d) => ` ${d.text}\n`).join("");
}
