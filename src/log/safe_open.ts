/**
 * @module
 * `openOwnedFile(path, how)`: opens a file the daemon creates in a shared directory such as /tmp
 * (its logs, `<socket>.lock`) without trusting what another user may have put there first. A new
 * file is created with O_CREAT|O_EXCL, which never follows a symbolic link. An existing one is
 * used only when it is a regular file with one link, owned by the daemon's user, and still the
 * same file once open; otherwise a `StartupError` says what is wrong and what to do.
 */

import { StartupError } from "../errors.ts";
import { ownerName } from "../users.ts";

/** `uid 1002 (cbtest)`. */
export const ownerText: (uid: number) => string = ownerName;

/** How to open: for appending (logs) or reading and writing (the lock file). */
export type OpenHow = { readonly append: true } | { readonly read: true; readonly write: true };

/**
 * Opens `path`, creating it with `mode` when absent.
 *
 * @param what shown in messages, e.g. "log file", "lock file"
 * @throws {StartupError} a symbolic link, not a regular file, several links, another owner, or
 *   a file swapped while it was opened
 * @throws {Deno.errors.NotFound | Deno.errors.PermissionDenied} an unusable directory
 */
export function openOwnedFile(path: string, how: OpenHow, mode: number, what: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { ...how, createNew: true, mode });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
  const refuse = (why: string) =>
    new StartupError(
      `Cannot use ${what} ${path}: ${why}; another user may have planted it: remove it or choose another path`,
    );
  const st = Deno.lstatSync(path);
  if (st.isSymlink) {
    let target = "?";
    try {
      target = Deno.readLinkSync(path);
    } catch { /* unreadable */ }
    throw refuse(`it is a symbolic link (to ${target}), which the daemon never follows`);
  }
  if (!st.isFile) throw refuse("it is not a regular file");
  const me = Deno.uid();
  if (me !== null && st.uid !== me) {
    throw refuse(
      `it is owned by ${ownerText(st.uid!)}, not by the daemon's user (${ownerText(me)})`,
    );
  }
  if ((st.nlink ?? 1) > 1) throw refuse(`it has ${st.nlink} hard links`);
  const f = Deno.openSync(path, how);
  const now = f.statSync();
  if (now.ino !== st.ino || now.dev !== st.dev) {
    f.close();
    throw refuse("it was replaced while being opened");
  }
  return f;
}
