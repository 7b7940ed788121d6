/**
 * @module
 * How Perl turns numbers into text, for helpers whose CPAN module hands Perl's own text of a
 * number to the outside world (Excel::Writer::XLSX's `<v>`, DBI's values and binds): an NV
 * (double) as C's `%.15g` with Perl's spellings of the special values, an integer in IV/UV range
 * in full, and a string's numification (`$string + 0`).
 */

const IV_MIN = -(2n ** 63n);
const UV_MAX = 2n ** 64n - 1n;

/**
 * Perl's stringification of a number (`"$n"`): integers in IV/UV range in full, anything else
 * as `%.15g`. (An integer beyond 2^53 reaches a helper as its digits, a string: the wire keeps
 * it so, daemon contract W8; see `perlNumify`.)
 */
export function perlNumberText(n: number): string {
  if (Number.isInteger(n)) {
    const b = BigInt(n);
    if (b >= IV_MIN && b <= UV_MAX) return b.toString();
  }
  return perlNv(n);
}

/** C's `%.15g` as Perl prints an NV ("1e+308", "0.333333333333333", "Inf", "-0" as "0"). */
export function perlNv(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Inf" : "-Inf";
  if (n === 0) return "0";
  const sci = n.toExponential(14); // "d.dddddddddddddde±x"
  const e = sci.indexOf("e");
  const mant = sci.slice(0, e), x = Number(sci.slice(e + 1));
  const trim = (t: string) => t.includes(".") ? t.replace(/0+$/, "").replace(/\.$/, "") : t;
  if (x < -4 || x >= 15) {
    const digits = String(Math.abs(x)).padStart(2, "0");
    return `${trim(mant)}e${x < 0 ? "-" : "+"}${digits}`;
  }
  return trim(n.toFixed(14 - x));
}

/**
 * `$string + 0` in Perl, stringified: leading white space and a sign, then an integer (kept
 * exactly within IV/UV range, so "12345678901234567890" stays itself) or a decimal/exponent
 * number (an NV, `%.15g`), "Inf"/"NaN"; trailing garbage is ignored and no number at all is 0.
 */
export function perlNumify(s: string): string {
  const m = /^[\t\n\v\f\r ]*([+-]?)(?:(\d+)(\.\d*)?|(\.\d+))([eE][+-]?\d+)?/.exec(s);
  if (!m) {
    const special = /^[\t\n\v\f\r ]*([+-]?)(inf(?:inity)?|nan)/i.exec(s);
    if (!special) return "0";
    if (/nan$/i.test(special[0])) return "NaN"; // the match ends with its word
    return special[1] === "-" ? "-Inf" : "Inf";
  }
  const [, sign, int, frac, fracOnly, exp] = m;
  if (int !== undefined && frac === undefined && exp === undefined) {
    const b = BigInt(sign + int);
    if (b >= IV_MIN && b <= UV_MAX) return b.toString();
  }
  return perlNv(Number(sign + (int ?? "") + (frac ?? fracOnly ?? "") + (exp ?? "")));
}
