/**
 * @module
 * `sftp` ls: the directory's entries as Net::SFTP::Foreign returns them (`filename`, `longname`
 * and the attributes in `a`, names decoded from UTF-8 as its fs_encoding does), filtered by a
 * `wanted` regex that arrives as the text of a Perl `qr//`.
 */

import type { Args, CallContext } from "../types.ts";
import { call, type SftpEntry } from "./ssh.ts";
import { isDir, onSession, pathArg, remote, why } from "./session.ts";
import { str } from "../types.ts";
import { perlRegex } from "./perl_regex.ts";

export { perlRegex };

export function ls(args: Args, ctx: CallContext) {
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
