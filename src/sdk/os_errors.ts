/**
 * @module
 * `perlErrno`: an OS error as Perl's `$!` prints it (`strerror`), for the error texts helpers copy
 * from the CPAN modules ("Cannot open x: No such file or directory"). Deno's own messages add
 * " (os error N)" and sometimes the call and path; Perl's never do.
 */

const TEXTS: readonly [new (...args: never[]) => Error, string][] = [
  [Deno.errors.NotFound, "No such file or directory"],
  [Deno.errors.PermissionDenied, "Permission denied"],
  [Deno.errors.AlreadyExists, "File exists"],
  [Deno.errors.NotADirectory, "Not a directory"],
  [Deno.errors.IsADirectory, "Is a directory"],
];

/** Perl's `$!` text for an error from a Deno file call; other errors' own message, trimmed. */
export function perlErrno(err: unknown): string {
  for (const [kind, text] of TEXTS) if (err instanceof kind) return text;
  return err instanceof Error ? err.message.replace(/ \(os error \d+\).*$/s, "") : String(err);
}
