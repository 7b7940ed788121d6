/**
 * @module
 * `sftp`: serves SFTPHelper.pm, which replaces Net::SFTP::Foreign (helpers contract §3.12).
 * Wrapped results; one session per `session_id` (a UUID), closed after the daemon's handle idle
 * TTL; calls on one session run one at a time. Remote relative paths resolve against the
 * session's `setcwd` directory, local ones against the Perl caller's cwd (§2.4). Connection,
 * authentication and host key policy live in `ssh.ts`.
 */

import { basename, dirname, posix } from "node:path";
import type { HandleTable } from "../../src/handles.ts";
import { defineHelper, failure, fn, perlText, wrapped } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import {
  type Attrs,
  call,
  connectSsh,
  type SftpEntry,
  type SshConnection,
  SshError,
  type SshTarget,
} from "./ssh.ts";
import { parseSshArgs } from "./options.ts";

/** One Net::SFTP::Foreign object's server side. */
interface SftpSession {
  readonly conn: SshConnection;
  readonly label: string;
  readonly initialDir: string;
  currentDir: string;
  lastError: string | null;
}

function sessions(ctx: CallContext): HandleTable<SftpSession> {
  return ctx.handles<SftpSession>("sessions", {
    prefix: "sftp",
    newId: () => crypto.randomUUID(),
    dispose: (s, reason) => {
      ctx.log.info(`closing SFTP session ${s.label}: ${reason}`);
      s.conn.close(reason);
    },
  });
}

const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : String(v);
/**
 * A remote name: Net::SFTP::Foreign sends `Encode::encode(fs_encoding = "utf8", $name)`, the
 * UTF-8 of the Perl string's characters, so a byte string is encoded once more ("Z\xc3\xbc"
 * becomes "Z\xc3\x83\xc2\xbc" on disk, tests/perl/sftp_names.t). ssh2 sends a JS string's UTF-8,
 * and the helper receives exactly the Perl ordinals: the string is passed on unchanged.
 */
const pathArg = str;
/** A local name: Perl opens the string's bytes; Deno opens a JS string's UTF-8 (`perlText`). */
const localArg = (v: unknown): string | undefined => {
  const s = str(v);
  return s === undefined ? undefined : perlText(s);
};
const truthy = (v: unknown): boolean =>
  !(v === undefined || v === null || v === false || v === 0 || v === "0" || v === "");
const now = () => new Date().toISOString();
const isDir = (a: Attrs) => (a.mode & 0o170000) === 0o040000;

/** Runs `op` on a live session under its lock; failures are recorded for `error` and returned. */
async function onSession(
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
const remote = (s: SftpSession, p: string) => posix.resolve(s.currentDir, p);

/** Wraps an operation's error with Net::SFTP::Foreign's wording. */
function why(prefix: string, e: unknown): never {
  const m = e instanceof Error ? e.message : String(e);
  throw new SshError(`${prefix}: ${m}`, e instanceof SshError ? e.kind : "remote");
}

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

/** Creates the missing parents of a remote path (Python's put did; Net::SFTP::Foreign does not). */
async function ensureParents(s: SftpSession, ctx: CallContext, path: string): Promise<void> {
  const missing: string[] = [];
  for (let d = posix.dirname(path); d !== "/" && d !== "."; d = posix.dirname(d)) {
    try {
      await s.conn.op("stat", ctx.signal, () => call<Attrs>((cb) => s.conn.sftp.stat(d, cb)));
      break;
    } catch (e) {
      if (e instanceof SshError && e.kind !== "remote") throw e;
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    await s.conn.op("mkdir", ctx.signal, () => call<void>((cb) => s.conn.sftp.mkdir(d, cb)))
      .catch((e) => why("Couldn't create remote directory", e));
  }
}

function put(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const localName = localArg(args.local_file);
    if (!localName) return failure("put: local_file is required");
    const local = await ctx.resolvePath(localName);
    let size: number, mode: number;
    try {
      const st = await Deno.stat(local);
      if (!st.isFile) return failure(`Local file is not a regular file: ${local}`);
      size = st.size;
      mode = (st.mode ?? 0o644) & 0o777;
    } catch (e) {
      const reason = e instanceof Deno.errors.NotFound ? "No such file or directory" : String(e);
      return failure(`Unable to open local file '${localName}': ${reason}`);
    }
    // The default remote name is the local name's basename, as Perl holds it (then encoded).
    const target = remote(s, pathArg(args.remote_file) || basename(str(args.local_file)!));
    await ensureParents(s, ctx, target);
    await s.conn.op(
      "put",
      ctx.signal,
      (touch) => call<void>((cb) => s.conn.sftp.fastPut(local, target, { mode, step: touch }, cb)),
    )
      .catch((e) => why(`Couldn't open remote file '${target}'`, e));
    ctx.log.info(`${s.label}: put ${local} -> ${target} (${size} bytes)`);
    return wrapped({ local_file: local, remote_file: target, bytes_transferred: size });
  });
}

function get(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const remoteArg = pathArg(args.remote_file);
    if (!remoteArg) return failure("get: remote_file is required");
    const source = remote(s, remoteArg);
    const attrs = await s.conn.op(
      "stat",
      ctx.signal,
      () => call<Attrs>((cb) => s.conn.sftp.stat(source, cb)),
    )
      .catch((e) => why("Couldn't stat remote file", e));
    if (isDir(attrs)) return failure(`Remote file '${source}' is a directory`);
    const local = await ctx.resolvePath(localArg(args.local_file) || posix.basename(source));
    // Net::SFTP::Foreign's get creates missing local directories (mkpath, on by default).
    await Deno.mkdir(dirname(local), { recursive: true }).catch(() => {});
    try {
      await s.conn.op(
        "get",
        ctx.signal,
        (touch) => call<void>((cb) => s.conn.sftp.fastGet(source, local, { step: touch }, cb)),
      );
    } catch (e) {
      await Deno.remove(local).catch(() => {}); // no partial file left behind
      why(`Couldn't get remote file '${source}' to '${local}'`, e);
    }
    ctx.log.info(`${s.label}: get ${source} -> ${local} (${attrs.size} bytes)`);
    return wrapped({
      remote_file: source,
      local_file: local,
      bytes_transferred: attrs.size,
      transferred_at: now(),
    });
  });
}

/**
 * A Perl regex (`qr//` stringified, e.g. `(?^i:\.txt$)`) as a JS RegExp; flags i/m/s are kept.
 * What JS cannot compile falls back to a substring test.
 */
export function perlRegex(text: string): (name: string) => boolean {
  let body = text, flags = "";
  const m = /^\(\?\^?([a-z]*)(?:-[a-z]*)?:([\s\S]*)\)$/.exec(text);
  if (m) {
    body = m[2];
    flags = [...m[1]].filter((f) => "ims".includes(f)).join("");
    if (m[1].includes("x")) {
      body = body.replace(/(?<!\\)#.*$/gm, "").replace(/(?<!\\)\s+/g, ""); // the /x flag
    }
  }
  try {
    const re = new RegExp(body.replace(/\\A/g, "^").replace(/\\[zZ]/g, "$"), flags);
    return (name) => re.test(name);
  } catch {
    return (name) => name.includes(body);
  }
}

function ls(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const dir = remote(s, pathArg(args.remote_dir) || ".");
    const list = await s.conn.op(
      "ls",
      ctx.signal,
      () => call<SftpEntry[]>((cb) => s.conn.sftp.readdir(dir, { full: true }, cb)),
    )
      .catch((e) => why(`Couldn't open remote dir '${dir}'`, e));
    const wanted = str(args.wanted);
    const keep = wanted ? perlRegex(wanted) : () => true;
    const entries = list.filter((e) => keep(e.filename)).map((e) => ({
      filename: e.filename,
      longname: e.longname,
      a: {
        size: e.attrs.size,
        uid: e.attrs.uid,
        gid: e.attrs.gid,
        perm: e.attrs.mode,
        atime: e.attrs.atime,
        mtime: e.attrs.mtime,
      },
      size: e.attrs.size,
      mtime: e.attrs.mtime,
      permissions: e.attrs.mode,
      is_dir: isDir(e.attrs),
    }));
    return { success: true, result: entries };
  });
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
    return wrapped({ remote_dir: dir, created_at: now() });
  });
}

function remove(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const arg = pathArg(args.remote_file);
    if (!arg) return failure("remove: remote_file is required");
    const file = remote(s, arg);
    await s.conn.op("remove", ctx.signal, () => call<void>((cb) => s.conn.sftp.unlink(file, cb)))
      .catch((e) => why("Couldn't delete remote file", e));
    return wrapped({ remote_file: file, removed_at: now() });
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
  return wrapped({ session_id: id, disconnected_at: now() });
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
