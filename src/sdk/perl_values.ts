/**
 * @module
 * Perl's view of the JSON values a wrapper sends: truth (`undef`, `""`, `"0"` and `0` are false)
 * and a parameter as a string, with `undef` kept apart.
 */

/** Perl truth: undef (null or absent), false, `""`, `"0"` and `0` are false; all else is true. */
export function truthy(v: unknown): boolean {
  return !(v === undefined || v === null || v === false || v === 0 || v === "" || v === "0");
}

/** A parameter as Perl's string of it; undef (null) and absent are undefined. */
export function str(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}
