/**
 * @module
 * Which files a helper may touch for a caller (docs/operations.md, "Shared sockets"). Everyone
 * who can connect to the socket acts with the daemon user's file authority, so two safeguards
 * apply to every path a helper resolves: the daemon's own files (its socket, lock file and both
 * logs with their rotated copies) are never touched through a helper, and when
 * CPAN_BRIDGE_ALLOWED_PATHS lists directories, nothing outside them is. Paths are compared after
 * resolving symbolic links, so a link cannot lead around either rule.
 */

import { posix } from "node:path";

/** The two rules, as the daemon configures them. */
export interface PathGuard {
  /** The daemon's own files; a rotated copy (`<file>.<suffix>`) counts as the file. */
  readonly protectedPaths: readonly string[];
  /** When not empty, the only directories (and their subtrees) helpers may use. */
  readonly allowedDirs: readonly string[];
}

/** A path a helper may not use; the message says why and which setting governs it. */
export class PathRefusedError extends Error {
  override readonly name = "PathRefusedError";
}

/** `path` with every symbolic link in its existing part resolved (the rest kept as written). */
export async function canonicalPath(path: string): Promise<string> {
  const parts = path.split("/");
  for (let keep = parts.length; keep > 0; keep--) {
    const head = parts.slice(0, keep).join("/") || "/";
    try {
      const real = await Deno.realPath(head);
      const rest = parts.slice(keep);
      // The part that does not exist yet holds no links: normalise it by its spelling.
      return rest.length ? posix.normalize(`${real.replace(/\/$/, "")}/${rest.join("/")}`) : real;
    } catch { /* not there yet: try the parent */ }
  }
  return path;
}

function within(path: string, dir: string): boolean {
  const d = dir.replace(/\/+$/, "");
  return path === d || path.startsWith(`${d}/`) || d === "";
}

/**
 * Refuses `path` (absolute) when it is one of the daemon's own files or lies outside the allowed
 * directories; returns the path with its links resolved, which is what was checked.
 *
 * @throws {PathRefusedError}
 */
export async function checkPath(path: string, guard: PathGuard): Promise<string> {
  const real = await canonicalPath(path);
  for (const p of guard.protectedPaths) {
    const own = await canonicalPath(p);
    if (real === own || real.startsWith(`${own}.`) || path === p || path.startsWith(`${p}.`)) {
      throw new PathRefusedError(
        `Cannot use '${path}': it is this daemon's own socket, lock or log file`,
      );
    }
  }
  if (guard.allowedDirs.length === 0) return real;
  for (const d of guard.allowedDirs) {
    if (within(real, await canonicalPath(d))) return real;
  }
  throw new PathRefusedError(
    `Cannot use '${path}': it is outside CPAN_BRIDGE_ALLOWED_PATHS (${
      guard.allowedDirs.join(":")
    })`,
  );
}

/** `canonicalPath`, synchronously (for callbacks that cannot wait, e.g. SQLite's authorizer). */
export function canonicalPathSync(path: string): string {
  const parts = path.split("/");
  for (let keep = parts.length; keep > 0; keep--) {
    const head = parts.slice(0, keep).join("/") || "/";
    try {
      const real = Deno.realPathSync(head);
      const rest = parts.slice(keep);
      return rest.length ? posix.normalize(`${real.replace(/\/$/, "")}/${rest.join("/")}`) : real;
    } catch { /* not there yet: try the parent */ }
  }
  return path;
}

/**
 * `checkPath`, synchronously: the reason `path` (absolute) is refused, or undefined when it may
 * be used.
 */
export function checkPathSync(path: string, guard: PathGuard): string | undefined {
  const real = canonicalPathSync(path);
  for (const p of guard.protectedPaths) {
    const own = canonicalPathSync(p);
    if (real === own || real.startsWith(`${own}.`) || path === p || path.startsWith(`${p}.`)) {
      return `Cannot use '${path}': it is this daemon's own socket, lock or log file`;
    }
  }
  if (guard.allowedDirs.length === 0) return undefined;
  for (const d of guard.allowedDirs) {
    if (within(real, canonicalPathSync(d))) return undefined;
  }
  return `Cannot use '${path}': it is outside CPAN_BRIDGE_ALLOWED_PATHS (${
    guard.allowedDirs.join(":")
  })`;
}
