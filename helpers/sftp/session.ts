/**
 * @module
 * The server side of one Net::SFTP::Foreign object and the table that holds them, how Perl
 * strings become remote and local names, and `onSession`, which runs one operation under the
 * session's lock and records its failure for `error()`.
 */

import { str } from "../types.ts";

import { posix } from "node:path";
import type { HandleTable } from "../types.ts";
import { failure, perlPath } from "../types.ts";
import type { Args, CallContext, Clock } from "../types.ts";
import { type Attrs, type SshConnection, SshError } from "./ssh.ts";

/** One Net::SFTP::Foreign object's server side. */
export interface SftpSession {
  readonly conn: SshConnection;
  readonly label: string;
  readonly initialDir: string;
  currentDir: string;
  lastError: string | null;
}

export function sessions(ctx: CallContext): HandleTable<SftpSession> {
  return ctx.handles<SftpSession>("sessions", {
    prefix: "sftp",
    newId: () => crypto.randomUUID(),
    dispose: (s, reason) => {
      ctx.log.info(`closing SFTP session ${s.label}: ${reason}`);
      s.conn.close(reason);
    },
  });
}

/**
 * A remote name: Net::SFTP::Foreign sends `Encode::encode(fs_encoding = "utf8", $name)`, the
 * UTF-8 of the Perl string's characters, so a byte string is encoded once more ("Z\xc3\xbc"
 * becomes "Z\xc3\x83\xc2\xbc" on disk, tests/perl/sftp_names.t). ssh2 sends a JS string's UTF-8,
 * and the helper receives exactly the Perl ordinals: the string is passed on unchanged.
 */
export const pathArg = str;
/**
 * A local name: the file Perl's open would name (`perlPath`); `null` when its bytes are not
 * UTF-8, which Deno cannot name (see `unnameable`).
 */
export const localArg = (v: unknown): string | null | undefined => {
  const s = str(v);
  return s === undefined ? undefined : perlPath(s) ?? null;
};
/** The error for a local name `localArg` gave `null` for, high bytes shown as \xHH. */
export function unnameable(v: unknown): string {
  const shown = String(v).replace(/[\u0080-\u00ff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
  return `Unable to open local file '${shown}': its name is not UTF-8 bytes, which this daemon cannot use as a path`;
}
/** The time of `clock` as ISO 8601 text (the `*_at` fields of results). */
export const now = (clock: Clock): string => new Date(clock.now()).toISOString();
export const isDir = (a: Attrs) => (a.mode & 0o170000) === 0o040000;

/** Runs `op` on a live session under its lock; failures are recorded for `error` and returned. */
export async function onSession(
  args: Args,
  ctx: CallContext,
  op: (s: SftpSession) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const table = sessions(ctx);
  const id = str(args.session_id) ?? "";
  if (!table.get(id)) {
    return failure(`Invalid session ID: ${id} (unknown, disconnected or idle-expired)`);
  }
  return await table.withLock(id, async (s) => {
    if (s.conn.closed) {
      s.lastError =
        `Not connected to ${s.label} (${s.conn.closeReason}); create a new Net::SFTP::Foreign object`;
      return failure(s.lastError);
    }
    try {
      const r = await op(s);
      if (r.success !== false) s.lastError = null;
      else s.lastError = String(r.error);
      return r;
    } catch (e) {
      s.lastError = e instanceof Error ? e.message : String(e);
      return failure(s.lastError);
    }
  });
}

/** Resolves a remote path against the session's current directory. */
export const remote = (s: SftpSession, p: string) => posix.resolve(s.currentDir, p);

/** Wraps an operation's error with Net::SFTP::Foreign's wording. */
export function why(prefix: string, e: unknown): never {
  const m = e instanceof Error ? e.message : String(e);
  throw new SshError(`${prefix}: ${m}`, e instanceof SshError ? e.kind : "remote");
}
