/**
 * @module
 * Which files a SQLite connection may ATTACH (and VACUUM INTO, which attaches its target): the
 * daemon's path rules (CPAN_BRIDGE_ALLOWED_PATHS, its own socket, lock and logs), as for the DSN.
 * SQLite opens a relative name against the daemon's directory, not the caller's as DBD::SQLite
 * in the script would, so a relative name is refused unless the two are the same directory.
 */

import { checkPathSync, type PathGuard } from "../types.ts";

/**
 * A check of an ATTACH file name as SQLite's authorizer hands it over (null when the name is not
 * a literal, e.g. `ATTACH ? AS x`): undefined when allowed, else the reason.
 */
export function attachRule(
  guard: PathGuard,
  callerCwd: string,
  daemonCwd: string,
): (file: string | null) => string | undefined {
  return (file) => {
    if (file === null) {
      return "the file name of ATTACH must be a literal string when path rules are set";
    }
    if (file === "" || file === ":memory:") return undefined; // temporary / in-memory database
    let path = file;
    if (file.startsWith("file:")) {
      const m = /^file:(?:\/\/(?:localhost)?(?=\/))?([^?#]*)/.exec(file);
      try {
        path = decodeURIComponent(m?.[1] ?? "");
      } catch {
        return `Cannot use '${file}': not a valid file: URI`;
      }
      if (path === ":memory:" || /[?&]mode=memory(&|$)/.test(file)) return undefined;
    }
    if (!path.startsWith("/")) {
      if (callerCwd !== daemonCwd) {
        return `Cannot use '${file}': SQLite would open a relative name in the daemon's directory, not the caller's; use an absolute path`;
      }
      path = `${daemonCwd.replace(/\/$/, "")}/${path}`;
    }
    return checkPathSync(path, guard);
  };
}
