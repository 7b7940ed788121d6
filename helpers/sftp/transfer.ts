/**
 * @module
 * `sftp` put and get, as Net::SFTP::Foreign 1.93 does them by default: missing directories are
 * created on the receiving side (mkpath), and the copy gets the source's permissions masked by
 * the Perl caller's umask (copy_perm) and its access and modification times (copy_time).
 */

import { Buffer } from "node:buffer";
import { basename, dirname, posix } from "node:path";
import { failure, wrapped } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { type Attrs, call, SshError } from "./ssh.ts";
import {
  isDir,
  localArg,
  now,
  onSession,
  pathArg,
  remote,
  type SftpSession,
  unnameable,
  why,
} from "./session.ts";
import { str } from "../types.ts";

/** Creates the missing parents of a remote path, as Net::SFTP::Foreign 1.93's put (mkpath => 1). */
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

/**
 * The Perl caller's umask (Net::SFTP::Foreign masks copied permissions with `umask`), from
 * `/proc/<pid>/status`; 022 when it cannot be read.
 */
async function callerUmask(ctx: CallContext): Promise<number> {
  if (ctx.callerPid === undefined) return 0o022;
  try {
    const status = await Deno.readTextFile(`/proc/${ctx.callerPid}/status`);
    const [, umask] = /^Umask:\s*([0-7]+)$/m.exec(status) ?? [];
    return umask === undefined ? 0o022 : parseInt(umask, 8);
  } catch {
    return 0o022;
  }
}

export function put(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    const localName = localArg(args.local_file);
    if (localName === null) return failure(unnameable(args.local_file));
    if (!localName) return failure("put: local_file is required");
    const local = await ctx.resolvePath(localName);
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(local);
      if (!st.isFile) return failure(`Local file is not a regular file: ${local}`);
    } catch (e) {
      const reason = e instanceof Deno.errors.NotFound ? "No such file or directory" : String(e);
      return failure(`Unable to open local file '${localName}': ${reason}`);
    }
    // The default remote name is the local name's basename, as Perl holds it (then encoded).
    const target = remote(s, pathArg(args.remote_file) || basename(str(args.local_file)!));
    const size = st.size;
    const mode = ((st.mode ?? 0o644) & 0o777) & ~await callerUmask(ctx);
    await ensureParents(s, ctx, target);
    const sftp = s.conn.sftp;
    await s.conn.op(
      "put",
      ctx.signal,
      (touch) => call<void>((cb) => sftp.fastPut(local, target, { mode, step: touch }, cb)),
    )
      .catch((e) => why(`Couldn't open remote file '${target}'`, e));
    // copy_perm and copy_time: the server's umask applied to the open; set both explicitly.
    const seconds = (d: Date | null) => Math.floor((d?.getTime() ?? 0) / 1000);
    const atime = seconds(st.atime), mtime = seconds(st.mtime);
    await s.conn.op(
      "setstat",
      ctx.signal,
      () => call<void>((cb) => sftp.setstat(target, { mode, atime, mtime }, cb)),
    )
      .catch((e) => why("Couldn't setstat remote file", e));
    ctx.log.info(`${s.label}: put ${local} -> ${target} (${size} bytes)`);
    return wrapped({ local_file: local, remote_file: target, bytes_transferred: size });
  });
}

/**
 * What Net::SFTP::Foreign's get of a directory reports: it opens the path and its first read
 * fails, `Couldn't read from remote file: <server text>` ("Failure" from OpenSSH). The same
 * open and read are made here to get the server's text; no local file is created.
 */
async function directoryReadError(s: SftpSession, ctx: CallContext, path: string) {
  const sftp = s.conn.sftp;
  const text = (e: unknown) => e instanceof Error ? e.message : String(e);
  const remoteOnly = (e: unknown) => {
    if (e instanceof SshError && e.kind !== "remote") throw e; // a dead connection stays an error
  };
  let h: Uint8Array;
  try {
    h = await s.conn.op(
      "open",
      ctx.signal,
      () => call<Uint8Array>((cb) => sftp.open(path, "r", cb)),
    );
  } catch (e) {
    remoteOnly(e);
    return `Couldn't open remote file '${path}': ${text(e)}`;
  }
  try {
    await s.conn.op(
      "read",
      ctx.signal,
      () =>
        new Promise<number>((resolve, reject) =>
          sftp.read(h, Buffer.alloc(1), 0, 1, 0, (e, n) => (e ? reject(e) : resolve(n)))
        ),
    );
    return `Remote object '${path}' is a directory`;
  } catch (e) {
    remoteOnly(e);
    return `Couldn't read from remote file: ${text(e)}`;
  } finally {
    await call<void>((cb) => sftp.close(h, cb)).catch(() => {});
  }
}

export function get(args: Args, ctx: CallContext) {
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
    if (isDir(attrs)) return failure(await directoryReadError(s, ctx, source));
    const localName = localArg(args.local_file);
    if (localName === null) return failure(unnameable(args.local_file));
    const local = await ctx.resolvePath(localName || posix.basename(source));
    // Net::SFTP::Foreign's get creates missing local directories (mkpath, on by default).
    // Net::SFTP::Foreign opens the remote file before it touches the local one: a refused open
    // is its own error and leaves an existing local file as it was.
    const probe = await s.conn.op(
      "open",
      ctx.signal,
      () => call<Uint8Array>((cb) => s.conn.sftp.open(source, "r", cb)),
    ).catch((e) => why(`Couldn't open remote file '${source}'`, e));
    await call<void>((cb) => s.conn.sftp.close(probe, cb)).catch(() => {});
    await Deno.mkdir(dirname(local), { recursive: true }).catch(() => {});
    const before = await Deno.stat(local).catch(() => undefined);
    try {
      await s.conn.op(
        "get",
        ctx.signal,
        (touch) => call<void>((cb) => s.conn.sftp.fastGet(source, local, { step: touch }, cb)),
      );
    } catch (e) {
      // No partial file left behind; but a file the failed transfer never touched (the remote
      // open was refused) stays, as Net::SFTP::Foreign opens the remote file first.
      const after = await Deno.stat(local).catch(() => undefined);
      const untouched = before !== undefined && after !== undefined &&
        after.size === before.size && after.mtime?.getTime() === before.mtime?.getTime();
      if (!untouched) await Deno.remove(local).catch(() => {});
      why(`Couldn't get remote file '${source}' to '${local}'`, e);
    }
    // copy_perm and copy_time, on the local copy.
    await Deno.chmod(local, (attrs.mode & 0o777) & ~await callerUmask(ctx));
    await Deno.utime(local, attrs.atime, attrs.mtime);
    ctx.log.info(`${s.label}: get ${source} -> ${local} (${attrs.size} bytes)`);
    return wrapped({
      remote_file: source,
      local_file: local,
      bytes_transferred: attrs.size,
      transferred_at: now(ctx.clock),
    });
  });
}
