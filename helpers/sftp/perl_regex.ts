/**
 * @module
 * A Perl regex as SFTPHelper.pm sends `ls`'s `wanted` (a stringified `qr//`, e.g.
 * `(?^i:\.txt$)`) turned into a JS matcher with Perl's semantics on the decoded (character)
 * file names Net::SFTP::Foreign matches it against: `\w`, `\d` and `\b` are Unicode-aware,
 * `\x{…}`, `\A`, `\z`, `\Z` and the flags i, m, s, x are understood. The pattern is compiled in
 * the most faithful JS mode that accepts it (unicodeSets, then unicode, then plain); what JS
 * cannot compile at all falls back to a substring test.
 */

/** Perl's `\w` for character strings: alphabetic, marks, decimal digits, connectors. */
const WORD = String.raw`\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}`;
const B = `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`;
const NB = `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`;
/** Characters a unicode-mode pattern may escape outside a class. */
const SYNTAX = "^$\\.*+?()[]{}|/";
/** Characters a unicodeSets-mode class may (and, when literal, must) escape. */
const V_CLASS = SYNTAX + "&-!#%,:;<=>@`~";

/** Rewrites a Perl pattern for JS mode `v` (unicodeSets) or `u` (unicode). */
function translate(body: string, mode: "u" | "v"): string {
  let out = "";
  let inClass = false;
  let classStart = false;
  for (let i = 0; i < body.length; i++) {
    const c = body.charAt(i);
    if (c === "\\" && i + 1 < body.length) {
      const n = body.charAt(++i);
      if (n === "x" && body[i + 1] === "{") {
        const end = body.indexOf("}", i);
        if (end > 0) {
          out += `\\u{${body.slice(i + 2, end).trim() || "0"}}`;
          i = end;
          classStart = false;
          continue;
        }
      }
      classStart = false;
      if (n === "w") out += inClass ? WORD : `[${WORD}]`;
      else if (n === "W") {
        if (inClass && mode === "u") throw new SyntaxError("\\W inside a class needs mode v");
        out += `[^${WORD}]`;
      } else if (n === "d") out += String.raw`\p{Nd}`;
      else if (n === "D") out += String.raw`\P{Nd}`;
      else if (!inClass && n === "b") out += B;
      else if (!inClass && n === "B") out += NB;
      else if (!inClass && n === "A") out += "^";
      else if (!inClass && (n === "z" || n === "Z")) out += "$";
      else if (/[A-Za-z0-9]/.test(n)) out += `\\${n}`;
      else if (inClass) out += (mode === "v" ? V_CLASS : SYNTAX + "-").includes(n) ? `\\${n}` : n;
      else out += SYNTAX.includes(n) ? `\\${n}` : n; // Perl's `\-`, `\_`, `\ `: the character
      continue;
    }
    if (!inClass) {
      if (c === "[") {
        inClass = true;
        classStart = true;
        out += c;
        if (body[i + 1] === "^") out += body.charAt(++i);
        continue;
      }
      out += c;
      continue;
    }
    // Inside a class. A "]" right after "[" or "[^" is a literal, as in Perl.
    if (c === "]" && !classStart) {
      inClass = false;
      out += c;
      continue;
    }
    const first = classStart;
    classStart = false;
    if (mode === "v" && V_CLASS.includes(c)) {
      const range = c === "-" && !first && body[i + 1] !== undefined && body[i + 1] !== "]";
      out += range ? c : `\\${c}`;
    } else out += c === "]" ? "\\]" : c;
  }
  return out;
}

/** Compiles `text`, the stringified Perl `qr//`, into a name matcher. */
export function perlRegex(text: string): (name: string) => boolean {
  let body = text, flags = "";
  const m = /^\(\?\^?([a-z]*)(?:-[a-z]*)?:([\s\S]*)\)$/.exec(text);
  if (m) {
    const [, given = "", inner = ""] = m; // both groups always take part
    body = inner;
    flags = [...given].filter((f) => "ims".includes(f)).join("");
    if (given.includes("x")) {
      body = body.replace(/(?<!\\)#.*$/gm, "").replace(/(?<!\\)\s+/g, ""); // the /x flag
    }
  }
  const attempts: Array<() => RegExp> = [
    () => new RegExp(translate(body, "v"), flags + "v"),
    () => new RegExp(translate(body, "u"), flags + "u"),
    () => new RegExp(body.replace(/\\A/g, "^").replace(/\\[zZ]/g, "$"), flags),
  ];
  for (const attempt of attempts) {
    try {
      const re = attempt();
      return (name) => re.test(name);
    } catch { /* try the next, less faithful mode */ }
  }
  return (name) => name.includes(body);
}
