/**
 * @module
 * How Perl prints the numbers DBD::SQLite and DBD::Pg hand it: an NV (a double) as C's `%.15g`
 * ("0.3" for 0.1+0.2, "1e+300", "Inf", "NaN", and "0" for -0.0, as Perl 5.36 prints it), an
 * integer in full. The values reach Perl as these strings, so `print`, `eq` and `==` see exactly
 * what they see with DBI. The number rules themselves are the SDK's (`perlNv`, `perlNumberText`).
 */

import { perlNv } from "../types.ts";

/** Perl's text of a number the server sent as text (float4/float8): parsed as a double, `%.15g`. */
export function perlNvOfText(text: string): string {
  const t = text.trim();
  if (/^-?infinity$/i.test(t)) return t.startsWith("-") ? "-Inf" : "Inf";
  if (/^nan$/i.test(t)) return "NaN";
  const n = Number(t);
  return Number.isNaN(n) ? text : perlNv(n);
}
