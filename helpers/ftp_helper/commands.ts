/**
 * @module
 * The `ftp_helper` functions that are one or a few control-connection commands: new, login,
 * cwd, pwd, binary/ascii, delete, rename, mkdir, rmdir, size, mdtm, passive, message, quit.
 * Arguments go to the server as the Perl string's bytes (`perlBytes`, in the client); replies
 * come back as Perl byte strings, as Net::FTP returns them.
 */

import { failure } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { FtpClient, FtpError, type FtpReply } from "./client.ts";
import { supported } from "./features.ts";
import { listLines } from "./transfer.ts";
import { describe, expect, flag, type FtpSession, is2xx, onSession, sessions } from "./session.ts";
import { str } from "../types.ts";

/** Splits `host[:port]` as IO::Socket::INET's PeerAddr does. */
function hostPort(host: string, port: unknown): [string, number] {
  const [, name, portText] = /^([^:]+):(\d+)$/.exec(host) ?? [];
  if (name !== undefined) return [name, Number(portText)];
  const p = Number(port ?? 21);
  return [host, Number.isInteger(p) && p > 0 ? p : 21];
}

/**
 * Passive or active data connections. Net::FTP takes `Passive`, else the caller's `FTP_PASSIVE`
 * (`int $ENV{FTP_PASSIVE}`), else libnet.cfg's `ftp_int_passive` (1 upstream, 0 in Debian's
 * /etc/perl/Net/libnet.cfg). The helper cannot read the caller's libnet.cfg and keeps passive, as
 * Python did, when neither is given.
 */
async function defaultPassive(args: Args, ctx: CallContext): Promise<boolean> {
  if (args.passive !== undefined && args.passive !== null) return flag(args.passive, true);
  const env = await ctx.callerEnv("FTP_PASSIVE");
  if (env === undefined) return true;
  const n = parseInt(env.trim(), 10); // Perl's int(): leading digits, else 0
  return Number.isFinite(n) && n !== 0;
}

/** `new`: connects and reads the greeting. */
export async function newSession(args: Args, ctx: CallContext) {
  const hostArg = str(args.host);
  if (!hostArg) return failure("Connection failed: no host specified");
  const [host, port] = hostPort(hostArg, args.port);
  const timeoutS = Number(args.timeout ?? 60);
  const timeoutMs = (Number.isFinite(timeoutS) && timeoutS > 0 ? timeoutS : 60) * 1000;
  const debug = Number(args.debug ?? 0) > 0;
  try {
    const { client, greeting } = await FtpClient.connect({
      host,
      port,
      timeoutMs,
      signal: ctx.signal,
      trace: debug ? (l) => ctx.log.debug(`${host}:${port} ${l}`) : undefined,
    });
    client.signal = undefined;
    const now = ctx.clock.now();
    const session: FtpSession = {
      client,
      host: hostArg,
      state: "connected",
      // DEFECT-FIX (contract §3.6): Python started in binary; Net::FTP starts in ASCII.
      transferMode: "ascii",
      serverType: "A",
      passive: await defaultPassive(args, ctx),
      lastMessage: greeting.message,
      supported: new Map(),
      createdAt: now,
      lastUsed: now,
    };
    const id = sessions(ctx).add(session);
    ctx.log.info(`Connected to ${host}:${port} as ${id}`);
    return { success: true, connection_id: id, message: greeting.message };
  } catch (err) {
    return failure(`Connection failed: ${host}:${port}: ${describe(err)}`);
  }
}

/**
 * `login`: Net::FTP's login: a false user (undef, "" or "0") is "anonymous", USER, then PASS when
 * the server asks for it (331/332), an anonymous user without a password sending "-anonymous@".
 * (~/.netrc is not read.)
 */
export async function login(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Login failed", async (s) => {
    const given = str(args.user);
    const user = given === undefined || given === "" || given === "0" ? "anonymous" : given;
    let r = await s.client.command(`USER ${user}`);
    s.lastMessage = r.message;
    if (r.code === 331 || r.code === 332) {
      let pass = str(args.password);
      if (pass === undefined && /^anonymous/.test(user)) pass = "-anonymous@";
      // `$ftp->_PASS($pass || "")`: a password "0" is sent empty, as Net::FTP does.
      r = await s.client.command(`PASS ${pass === undefined || pass === "0" ? "" : pass}`);
      s.lastMessage = r.message;
    }
    if (!is2xx(r.code)) throw new FtpError("reply", r.raw, r);
    s.state = "logged_in";
    ctx.log.info(`${s.host}: logged in as ${user}`);
    return { success: true, message: r.message };
  });
}

/** `cwd`: Net::FTP's cwd (no argument or blanks mean "/", ".." means CDUP). */
export async function cwd(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Directory change failed", async (s) => {
    const r = await expect(s, cwdLine(str(args.directory)), is2xx);
    return { success: true, message: r.message };
  });
}

/** Net::FTP's `_extract_path`: the quoted path in a 257 reply, with "" unescaped. */
export function quotedPath(r: FtpReply): string | undefined {
  const m = /(?:^|\s)"(.*)"(?:$|\s)/.exec(r.message.trimEnd());
  return m?.[1]?.replaceAll('""', '"');
}

/** `pwd`: the quoted path of the 257 reply, as bytes. */
export async function pwd(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "PWD error", async (s) => {
    const r = await expect(s, "PWD", is2xx);
    return { success: true, directory: quotedPath(r) ?? r.message.trim(), message: r.message };
  });
}

/** `binary` / `ascii`: TYPE I / TYPE A. */
export function typeCommand(mode: "binary" | "ascii") {
  return (args: Args, ctx: CallContext) =>
    onSession(
      args,
      ctx,
      mode === "binary" ? "Binary mode error" : "ASCII mode error",
      async (s) => {
        const r = await expect(s, mode === "binary" ? "TYPE I" : "TYPE A", is2xx);
        s.transferMode = mode;
        s.serverType = mode === "binary" ? "I" : "A";
        return { success: true, message: r.message };
      },
    );
}

/** A command with one argument that answers with a 2xx reply (DELE, RMD). */
export function simple(verb: string, param: string, prefix: string) {
  return (args: Args, ctx: CallContext) =>
    onSession(args, ctx, prefix, async (s) => {
      const arg = str(args[param]);
      if (!arg) return failure(`${prefix}: no ${param} given`);
      const r = await expect(s, `${verb} ${arg}`, is2xx);
      return { success: true, message: r.message };
    });
}

/** `rename`: RNFR (350), then RNTO. */
export async function rename(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Rename failed", async (s) => {
    const from = str(args.old_name), to = str(args.new_name);
    if (!from || !to) return failure("Rename failed: old_name and new_name are required");
    await expect(s, `RNFR ${from}`, (c) => c === 350);
    const r = await expect(s, `RNTO ${to}`, is2xx);
    return { success: true, message: r.message };
  });
}

/** Net::FTP's cwd argument: no directory or blanks mean "/", ".." means CDUP. */
function cwdLine(dir: string | undefined): string {
  const d = dir !== undefined && /\S/.test(dir) ? dir : "/";
  return d === ".." ? "CDUP" : `CWD ${d}`;
}

/**
 * `mkdir`: Net::FTP 3.14's mkdir($dir[, $recurse]), step for step. Success returns `$dir` as
 * given; with `recurse`, after a failed MKD of the whole path, each element is created in turn
 * (the path continuing from the server's quoted reply); if the last one fails but the directory
 * can be entered, it is `$dir` (the working directory is restored), and message() is the failed
 * MKD's.
 */
export async function mkdir(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Mkdir failed", async (s) => {
    const dir = str(args.directory);
    if (!dir) return failure("Mkdir failed: no directory given");
    const first = await s.client.command(`MKD ${dir}`);
    s.lastMessage = first.message;
    if (is2xx(first.code)) return { success: true, directory: dir, message: first.message };
    if (!flag(args.recurse, false)) throw new FtpError("reply", first.raw, first);
    let path = "";
    let last = first;
    for (const part of dir.split(/(?=\/+)/)) {
      path += part;
      last = await s.client.command(`MKD ${path}`);
      s.lastMessage = last.message;
      if (is2xx(last.code)) path = quotedPath(last) ?? path;
    }
    if (is2xx(last.code)) return { success: true, directory: path, message: last.message };
    const pwdReply = await s.client.command("PWD");
    const cur = is2xx(pwdReply.code) ? quotedPath(pwdReply) : undefined;
    let entered = false;
    if (cur && cur !== "0") {
      entered = is2xx((await s.client.command(cwdLine(dir))).code);
      if (entered) await s.client.command(cwdLine(cur));
    }
    s.lastMessage = last.message;
    if (!entered) throw new FtpError("reply", last.raw, last);
    return { success: true, directory: dir, message: last.message };
  });
}

/** A long-listing line's size field, as Net::FTP reads STAT and LIST output. */
const LONG_LINE = /^[-rwxSsTt]{10}/;
const sizeField = (line: string) => line.split(/\s+/)[4];

/**
 * `size`: Net::FTP's size: SIZE when the server supports it (FEAT, else HELP), else the size
 * field of a STAT reply of exactly three lines, else of the first LIST line.
 */
export async function size(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Size failed", async (s) => {
    const f = str(args.remote_file);
    if (!f) return failure("Size failed: no remote_file given");
    let found: string | undefined;
    if (await supported(s, "SIZE")) {
      const r = await expect(s, `SIZE ${f}`, is2xx);
      found = /(\d+)\s*(bytes?\s*)?$/.exec(r.message.trimEnd())?.[1];
    } else if (await supported(s, "STAT")) {
      const r = await expect(s, `STAT ${f}`, is2xx);
      const lines = r.message.split("\n").slice(0, -1);
      if (lines.length === 3) found = lines.find((l) => LONG_LINE.test(l))?.split(/\s+/)[4];
    } else {
      const first = (await listLines(s, "LIST", f)).lines[0];
      if (first !== undefined && LONG_LINE.test(first)) found = sizeField(first);
    }
    if (found === undefined) return failure(`Size failed: no size for ${f}`);
    return { success: true, size: Number(found), message: s.lastMessage };
  });
}

/** `mdtm`: MDTM as epoch seconds, with Net::FTP's workaround for "19100" years. */
export async function mdtm(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Mdtm failed", async (s) => {
    const f = str(args.remote_file);
    if (!f) return failure("Mdtm failed: no remote_file given");
    const r = await expect(s, `MDTM ${f}`, is2xx);
    const m = /((\d\d)(\d\d\d?))(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(r.message);
    if (!m) return { success: true, mdtm: null, message: r.message };
    const year = m[2] === "19" ? Number(m[3]) + 1900 : Number(m[1]);
    const epoch =
      Date.UTC(year, Number(m[4]) - 1, Number(m[5]), Number(m[6]), Number(m[7]), Number(m[8])) /
      1000;
    return { success: true, mdtm: epoch, message: r.message };
  });
}

/** `passive`: reads or sets passive (PASV) versus active (PORT) data connections. */
export async function passive(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Passive failed", (s) => {
    if (args.passive !== undefined && args.passive !== null) s.passive = flag(args.passive, true);
    return Promise.resolve({ success: true, passive: s.passive ? 1 : 0 });
  });
}

/** `message`: Net::FTP's message(), the text of the last reply. */
export function message(args: Args, ctx: CallContext) {
  const s = sessions(ctx).get(args.connection_id);
  if (!s) return failure(`Invalid connection ID: ${str(args.connection_id) ?? ""}`);
  return { success: true, message: s.lastMessage };
}

/** `quit`: always succeeds; waits for a running command, then QUIT (in dispose). */
export async function quit(args: Args, ctx: CallContext) {
  const table = sessions(ctx);
  const id = str(args.connection_id) ?? "";
  if (!table.has(id)) return { success: true };
  await table.withLock(id, () => {}).catch(() => {});
  await table.delete(id, "quit").catch(() => {});
  return { success: true };
}
