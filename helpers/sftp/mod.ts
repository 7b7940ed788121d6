/**
 * @module
 * `sftp`: serves SFTPHelper.pm, which replaces Net::SFTP::Foreign (helpers contract §3.12).
 * Wrapped results; one session per `session_id` (a UUID), closed after the daemon's handle idle
 * TTL; calls on one session run one at a time. Remote relative paths resolve against the
 * session's `setcwd` directory, local ones against the Perl caller's cwd (§2.4). Connection,
 * authentication and host key policy live in `connect.ts` and `ssh.ts`, names in `session.ts`, transfers in
 * `transfer.ts`, listings in `listing.ts`.
 */

import { defineHelper, failure, fn, wrapped } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { type Attrs, call, SshError, type SshTarget } from "./ssh.ts";
import { connectSsh } from "./connect.ts";
import { parseSshArgs } from "./options.ts";
import {
  isDir,
  now,
  onSession,
  pathArg,
  remote,
  sessions,
  type SftpSession,
  why,
} from "./session.ts";
import { str, truthy } from "../types.ts";
import { get, put } from "./transfer.ts";
import { ls } from "./listing.ts";

export { perlRegex } from "./listing.ts";
async function newSession(args: Args, ctx: CallContext) {
  const parsed = await parseSshArgs(args, ctx, { port: 22, timeoutS: 60 });
  if ("error" in parsed) return failure(`SFTP connection failed: ${parsed.error}`);
  const t: SshTarget = { ...parsed.target, defaultKeys: true };
  try {
    const conn = await connectSsh(t, ctx);
    const home = await conn.op(
      "realpath",
      ctx.signal,
      () => call<string>((cb) => conn.sftp.realpath(".", cb)),
    );
    const label = `${t.user}@${t.host}:${t.port}`;
    const id = sessions(ctx).add({
      conn,
      label,
      initialDir: home,
      currentDir: home,
      lastError: null,
    });
    ctx.log.info(`SFTP session ${id} to ${label}`);
    return wrapped({ session_id: id, initial_dir: home, connection_type: "ssh2" });
  } catch (e) {
    return failure(`SFTP connection failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
function rename(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const oldName = pathArg(args.old_name), newName = pathArg(args.new_name);
    if (!oldName || !newName) return failure("rename: old_name and new_name are required");
    const from = remote(s, oldName), to = remote(s, newName);
    const overwrite = truthy(args.overwrite);
    const sftp = s.conn.sftp;
    await s.conn.op("rename", ctx.signal, async () => {
      // Without overwrite: plain SFTP rename, which OpenSSH refuses for an existing target.
      if (!overwrite) return await call<void>((cb) => sftp.rename(from, to, cb));
      // posix-rename@openssh.com replaces atomically; else remove the target, then rename.
      try {
        return await call<void>((cb) => sftp.ext_openssh_rename(from, to, cb));
      } catch {
        await call<void>((cb) => sftp.unlink(to, cb)).catch(() => {});
        return await call<void>((cb) => sftp.rename(from, to, cb));
      }
    }).catch((e) => why(`Couldn't rename remote file '${from}' to '${to}'`, e));
    return wrapped({ old_name: from, new_name: to, overwrite });
  });
}

function setcwd(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const arg = pathArg(args.remote_dir);
    const dir = arg ? remote(s, arg) : s.initialDir;
    const sftp = s.conn.sftp;
    // Net::SFTP::Foreign's setcwd: realpath, stat, and a directory check, each with its text.
    const real = await s.conn.op("setcwd", ctx.signal, async () => {
      const r = await call<string>((cb) => sftp.realpath(dir, cb))
        .catch((e) => why(`Couldn't get realpath for remote '${dir}'`, e));
      const a = await call<Attrs>((cb) => sftp.stat(r, cb))
        .catch((e) => why("Couldn't stat remote file", e));
      if (!isDir(a)) throw new SshError(`Remote object '${r}' is not a directory`, "remote");
      return r;
    });
    s.currentDir = real;
    return wrapped({ current_dir: real });
  });
}

function mkdir(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const arg = pathArg(args.remote_dir);
    if (!arg) return failure("mkdir: remote_dir is required");
    const dir = remote(s, arg);
    await s.conn.op("mkdir", ctx.signal, () => call<void>((cb) => s.conn.sftp.mkdir(dir, cb)))
      .catch((e) => why("Couldn't create remote directory", e));
    return wrapped({ remote_dir: dir, created_at: now(ctx.clock) });
  });
}

function remove(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const arg = pathArg(args.remote_file);
    if (!arg) return failure("remove: remote_file is required");
    const file = remote(s, arg);
    await s.conn.op("remove", ctx.signal, () => call<void>((cb) => s.conn.sftp.unlink(file, cb)))
      .catch((e) => why("Couldn't delete remote file", e));
    return wrapped({ remote_file: file, removed_at: now(ctx.clock) });
  });
}

/** Reads a session without running an operation (no lock needed, no server round trip). */
function peek(args: Args, ctx: CallContext, f: (s: SftpSession) => unknown) {
  const id = str(args.session_id) ?? "";
  const s = sessions(ctx).get(id);
  return s
    ? wrapped(f(s))
    : failure(`Invalid session ID: ${id} (unknown, disconnected or idle-expired)`);
}

async function disconnect(args: Args, ctx: CallContext) {
  const id = str(args.session_id) ?? "";
  const table = sessions(ctx);
  if (!table.get(id)) return failure(`Invalid session ID: ${id} (unknown or already disconnected)`);
  await table.withLock(id, () => {}); // let a running operation finish first
  await table.delete(id, "disconnect");
  return wrapped({ session_id: id, disconnected_at: now(ctx.clock) });
}

export const sftpHelper = defineHelper({
  name: "sftp",
  replaces: "SFTPHelper.pm (Net::SFTP::Foreign)",
  functions: {
    new: fn(
      [
        "host",
        "user",
        "port",
        "timeout",
        "password",
        "more",
        "passphrase",
        "key_path",
        "ssh_options",
      ],
      newSession,
      { variadic: true },
    ),
    put: fn(["session_id", "local_file", "remote_file"], put),
    get: fn(["session_id", "remote_file", "local_file"], get),
    ls: fn(["session_id", "remote_dir", "wanted"], ls),
    rename: fn(["session_id", "old_name", "new_name", "overwrite"], rename),
    setcwd: fn(["session_id", "remote_dir"], setcwd),
    cwd: fn(["session_id"], (a, c) => peek(a, c, (s) => s.currentDir)),
    mkdir: fn(["session_id", "remote_dir"], mkdir),
    remove: fn(["session_id", "remote_file"], remove),
    error: fn(["session_id"], (a, c) => peek(a, c, (s) => s.lastError)),
    is_connected: fn(["session_id"], (a, c) => peek(a, c, (s) => !s.conn.closed)),
    disconnect: fn(["session_id"], disconnect),
  },
});
