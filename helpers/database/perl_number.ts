/**
 * @module
 * How Perl prints the numbers DBD::SQLite and DBD::Pg hand it: an NV (a double) as C's `%.15g`
 * ("0.3" for 0.1+0.2, "1e+300", "Inf", "NaN", and "0" for -0.0, as Perl 5.36 prints it), an
 * integer in full. The values reach Perl as these strings, so `print`, `eq` and `==` see exactly
 * what they see with DBI.
 */

const IV_MIN = -(2n ** 63n);
const UV_MAX = 2n ** 64n - 1n;

/** Perl's `"$nv"` for a double: `%.15g`, with Perl's spellings of the special values. */
export function perlNv(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Inf" : "-Inf";
  if (n === 0) return "0";
  const [mant, ex] = n.toExponential(14).split("e");
  const x = Number(ex);
  const trim = (t: string) => t.includes(".") ? t.replace(/0+$/, "").replace(/\.$/, "") : t;
  if (x < -4 || x >= 15) {
    return `${trim(mant)}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  }
  return trim(n.toFixed(14 - x));
}

/**
 * A JSON number from Perl as the string Perl would bind: a whole number in IV/UV range in full,
 * anything else as an NV. JSON cannot tell an IV from a whole NV, so a whole number is taken as
 * the IV it almost always is; above 2^53 it has already lost digits in the daemon's JSON parse
 * (daemon contract W8), so such values must be bound as strings to arrive exactly.
 */
export function perlNumberText(n: number): string {
  if (Number.isInteger(n)) {
    const b = BigInt(n);
    if (b >= IV_MIN && b <= UV_MAX) return b.toString();
  }
  return perlNv(n);
}

/** Perl's text of a number the server sent as text (float4/float8): parsed as a double, `%.15g`. */
export function perlNvOfText(text: string): string {
  const t = text.trim();
  if (/^-?infinity$/i.test(t)) return t.startsWith("-") ? "-Inf" : "Inf";
  if (/^nan$/i.test(t)) return "NaN";
  const n = Number(t);
  return Number.isNaN(n) ? text : perlNv(n);
}
