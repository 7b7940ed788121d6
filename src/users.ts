/**
 * @module
 * User and group names for messages and the socket's group, read from /etc/passwd and
 * /etc/group (no NSS: the daemon runs where those files are the source).
 */

import { StartupError } from "./errors.ts";

/** `uid 1002 (cbtest)`, from /etc/passwd. */
export function ownerName(uid: number): string {
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f[2] === String(uid)) return `uid ${uid} (${f[0]})`;
    }
  } catch { /* no passwd */ }
  return `uid ${uid}`;
}

/** Resolves a group name or number to a gid, from /etc/group. */
export function resolveGid(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const line = Deno.readTextFileSync("/etc/group").split("\n").find((l) =>
    l.split(":")[0] === group
  );
  if (!line) {
    throw new StartupError(`Cannot use socket group '${group}': no such group in /etc/group`);
  }
  return Number(line.split(":")[2]);
}
