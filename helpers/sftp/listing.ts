/**
 * @module
 * `sftp` ls: the directory's entries as Net::SFTP::Foreign returns them (`filename`, `longname`
 * and the attributes in `a`, names decoded from UTF-8 as its fs_encoding does), filtered by a
 * `wanted` regex that arrives as the text of a Perl `qr//`.
 */

import type { Args, CallContext } from "../types.ts";
import { call, type SftpEntry } from "./ssh.ts";
import { isDir, onSession, pathArg, remote, str, why } from "./session.ts";

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
