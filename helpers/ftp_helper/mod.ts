/**
 * @module
 * `ftp_helper`: serves FTPHelper.pm, which defines package `Net::FTP` (helpers contract §3.6).
 * Flat results; one session per `connection_id` (`ftp_<epoch>_<8 hex>`), idle TTL 300 s, calls on
 * one session run one at a time. Local paths are relative to the Perl caller's cwd (§2.4).
 */

import { basename } from "node:path";
import { defineHelper, failure, fn } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import type { HandleTable } from "../../src/handles.ts";
import { FtpClient, FtpError } from "./client.ts";
import type { FtpReply } from "./client.ts";
import { fromCrlf, toCrlf } from "./ascii.ts";

/** Idle time after which a session is closed (Python's CONNECTION_CLEANUP_TIMEOUT). */
export const FTP_IDLE_TTL_MS = 300_000;

type State = "connected" | "logged_in" | "closed";

/** One Net::FTP object's server side. */
interface FtpSession {
  readonly client: FtpClient;
  readonly host: string;
  state: State;
  transferMode: "binary" | "ascii";
  /** The TYPE last sent to the server (RFC 959 starts in ASCII). */
  serverType: "A" | "I";
  passive: boolean;
  lastMessage: string;
  readonly createdAt: number;
  lastUsed: number;
}

/**
 * Every open session by id, for statistics that must not count as use (a `get` on the sessions
 * table resets the idle timer). One entry, never expired.
 */
function index(ctx: CallContext): Map<string, FtpSession> {
  const t = ctx.handles<Map<string, FtpSession>>("index", { prefix: "ftpidx", idleTtlMs: 0 });
  let m = t.get("all");
  if (!m) t.add(m = new Map(), "all");
  return m;
}

function sessions(ctx: CallContext): HandleTable<FtpSession> {
  const all = index(ctx);
  return ctx.handles<FtpSession>("connections", {
    prefix: "ftp",
    idleTtlMs: FTP_IDLE_TTL_MS,
    dispose: async (s) => {
      s.state = "closed";
      for (const [id, v] of all) if (v === s) all.delete(id);
      if (s.client.closed) return;
      s.client.timeoutMs = Math.min(s.client.timeoutMs, 2000);
      s.client.signal = undefined;
      await s.client.command("QUIT").catch(() => {});
      s.client.close("quit");
    },
  });
}

const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : String(v);
const flag = (v: unknown, dflt: boolean): boolean =>
  v === undefined || v === null ? dflt : !(v === false || v === 0 || v === "0" || v === "");

/** Splits `host[:port]` as IO::Socket::INET's PeerAddr does. */
function hostPort(host: string, port: unknown): [string, number] {
  const m = /^([^:]+):(\d+)$/.exec(host);
  if (m) return [m[1], Number(m[2])];
  const p = Number(port ?? 21);
  return [host, Number.isInteger(p) && p > 0 ? p : 21];
}

/** The error text of a failed operation: the server reply, or what went wrong locally. */
function describe(err: unknown): string {
  if (err instanceof FtpError) return err.reply ? err.reply.raw : err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `op` on the session under its lock, recording the last reply as the session's message.
 * Expected failures become `{success:false, error:"<prefix>: <reason>"}`.
 */
async function onSession(
  args: Args,
  ctx: CallContext,
  prefix: string,
  op: (s: FtpSession) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const table = sessions(ctx);
  const id = str(args.connection_id) ?? "";
  if (!table.get(id)) return failure(`Invalid connection ID: ${id}`);
  return await table.withLock(id, async (s) => {
    s.lastUsed = Date.now();
    if (s.client.closed) {
      return failure(
        `${prefix}: not connected to ${s.host} (${s.client.closeReason}); create a new Net::FTP object`,
      );
    }
    s.client.signal = ctx.signal;
    try {
      return await op(s);
    } catch (err) {
      const reason = describe(err);
      s.lastMessage = err instanceof FtpError && err.reply ? err.reply.message : `${reason}\n`;
      if (s.client.closed) s.state = "closed";
      return failure(`${prefix}: ${reason}`);
    } finally {
      s.client.signal = undefined;
      s.lastUsed = Date.now();
    }
  });
}

/** Sends one command that must succeed with a 2xx/3xx code; records its message. */
async function expect(
  s: FtpSession,
  line: string,
  ok: (code: number) => boolean,
): Promise<FtpReply> {
  const r = await s.client.command(line);
  s.lastMessage = r.message;
  if (!ok(r.code)) throw new FtpError("reply", r.raw, r);
  return r;
}
const is2xx = (c: number) => c >= 200 && c < 300;

async function newSession(args: Args, ctx: CallContext) {
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
    const now = Date.now();
    const session: FtpSession = {
      client,
      host: hostArg,
      state: "connected",
      transferMode: "binary",
      serverType: "A",
      passive: flag(args.passive, true),
      lastMessage: greeting.message,
      createdAt: now,
      lastUsed: now,
    };
    const id = sessions(ctx).add(session);
    index(ctx).set(id, session);
    ctx.log.info(`Connected to ${host}:${port} as ${id}`);
    return { success: true, connection_id: id, message: greeting.message };
  } catch (err) {
    return failure(`Connection failed: ${host}:${port}: ${describe(err)}`);
  }
}

async function login(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Login failed", async (s) => {
    const user = str(args.user) ?? "anonymous";
    let r = await s.client.command(`USER ${user}`);
    s.lastMessage = r.message;
    if (r.code === 331 || r.code === 332) {
      r = await s.client.command(`PASS ${str(args.password) ?? ""}`);
      s.lastMessage = r.message;
    }
    if (!is2xx(r.code)) throw new FtpError("reply", r.raw, r);
    s.state = "logged_in";
    ctx.log.info(`${s.host}: logged in as ${user}`);
    return { success: true, message: r.message };
  });
}

async function cwd(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Directory change failed", async (s) => {
    const dir = str(args.directory);
    const d = dir !== undefined && /\S/.test(dir) ? dir : "/";
    const r = await expect(s, d === ".." ? "CDUP" : `CWD ${d}`, is2xx);
    return { success: true, message: r.message };
  });
}

/** Net::FTP's `_extract_path`: the quoted path in a 257 reply, with "" unescaped. */
function quotedPath(r: FtpReply): string | undefined {
  const m = /(?:^|\s)"(.*)"(?:$|\s)/.exec(r.message.trimEnd());
  return m ? m[1].replaceAll('""', '"') : undefined;
}

async function pwd(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "PWD error", async (s) => {
    const r = await expect(s, "PWD", is2xx);
    return { success: true, directory: quotedPath(r) ?? r.message.trim(), message: r.message };
  });
}

/** LIST or NLST; the lines as the server sent them (CRLF removed). */
function listing(verb: "LIST" | "NLST") {
  return (args: Args, ctx: CallContext) =>
    onSession(args, ctx, "Directory listing failed", async (s) => {
      const path = str(args.path) ?? "";
      const parts: Uint8Array[] = [];
      const r = await s.client.transfer(path ? `${verb} ${path}` : verb, s.passive, {
        onData: (c) => void parts.push(c.slice()),
      });
      s.lastMessage = r.message;
      const text = new TextDecoder().decode(concat(parts)).replaceAll("\r\n", "\n");
      const lines = text.split("\n");
      if (lines.at(-1) === "") lines.pop();
      return { success: true, listing: lines, message: r.message };
    });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function typeCommand(mode: "binary" | "ascii") {
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

async function get(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Download failed", async (s) => {
    const remote = str(args.remote_file);
    if (!remote) return failure("Download failed: no remote file given");
    const localName = str(args.local_file) ?? basename(remote);
    const local = await ctx.resolvePath(localName);
    const ascii = s.transferMode === "ascii";
    // Open (without truncating) before RETR, so a local problem never disturbs the session and
    // an existing local file survives a failed download that sent no data (as with Net::FTP).
    const existed = await Deno.stat(local).then(() => true, () => false);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(local, { write: true, create: true });
    } catch (err) {
      return failure(`Download failed: cannot open local file ${local}: ${(err as Error).message}`);
    }
    let written = false;
    const start = async () => {
      if (!written) await file.truncate(0);
      written = true;
    };
    const crlf = fromCrlf();
    try {
      await syncType(s);
      const r = await s.client.transfer(`RETR ${remote}`, s.passive, {
        onData: async (chunk) => {
          await start();
          await writeAll(file, ascii ? crlf.push(chunk) : chunk);
        },
      });
      await start();
      if (ascii) await writeAll(file, crlf.end());
      s.lastMessage = r.message;
      return { success: true, message: r.message, local_file: localName };
    } catch (err) {
      // Like Python's helper, a partial local file is removed.
      if (written || !existed) await Deno.remove(local).catch(() => {});
      throw err;
    } finally {
      file.close();
    }
  });
}

async function writeAll(f: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await f.write(bytes.subarray(off));
}

async function put(args: Args, ctx: CallContext) {
  const localName = str(args.local_file);
  if (!localName) return failure("Upload failed: no local file given");
  const local = await ctx.resolvePath(localName);
  const info = await Deno.stat(local).catch(() => undefined);
  if (!info?.isFile) return failure(`Local file not found: ${local}`);
  return await onSession(args, ctx, "Upload failed", async (s) => {
    const remote = str(args.remote_file) ?? basename(localName);
    const ascii = s.transferMode === "ascii";
    await syncType(s);
    const file = await Deno.open(local, { read: true });
    try {
      const r = await s.client.transfer(`STOR ${remote}`, s.passive, {
        source: readChunks(file, ascii),
      });
      s.lastMessage = r.message;
      return { success: true, message: r.message, remote_file: remote };
    } finally {
      try {
        file.close();
      } catch { /* closed by the stream */ }
    }
  });
}

async function* readChunks(file: Deno.FsFile, ascii: boolean): AsyncIterable<Uint8Array> {
  const conv = toCrlf();
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    yield ascii ? conv.push(buf.subarray(0, n)) : buf.slice(0, n);
  }
}

/** A command with one argument that answers with a 2xx reply. */
function simple(verb: string, param: string, prefix: string) {
  return (args: Args, ctx: CallContext) =>
    onSession(args, ctx, prefix, async (s) => {
      const arg = str(args[param]);
      if (!arg) return failure(`${prefix}: no ${param} given`);
      const r = await expect(s, `${verb} ${arg}`, is2xx);
      return { success: true, message: r.message };
    });
}

async function rename(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Rename failed", async (s) => {
    const from = str(args.old_name), to = str(args.new_name);
    if (!from || !to) return failure("Rename failed: old_name and new_name are required");
    await expect(s, `RNFR ${from}`, (c) => c === 350);
    const r = await expect(s, `RNTO ${to}`, is2xx);
    return { success: true, message: r.message };
  });
}

async function mkdir(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Mkdir failed", async (s) => {
    const dir = str(args.directory);
    if (!dir) return failure("Mkdir failed: no directory given");
    if (!flag(args.recurse, false)) {
      const r = await expect(s, `MKD ${dir}`, is2xx);
      return { success: true, directory: quotedPath(r) ?? dir, message: r.message };
    }
    // Net::FTP mkdir($dir, 1): create each path element, ignoring "exists" errors.
    let path = "";
    let last: FtpReply | undefined;
    for (const part of dir.split(/(?=\/+)/)) {
      path += part;
      last = await s.client.command(`MKD ${path}`);
      s.lastMessage = last.message;
    }
    if (last && is2xx(last.code)) {
      return { success: true, directory: quotedPath(last) ?? dir, message: last.message };
    }
    const probe = await s.client.command(`CWD ${dir}`);
    if (!is2xx(probe.code)) throw new FtpError("reply", last!.raw, last);
    return { success: true, directory: dir, message: last!.message };
  });
}

async function size(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Size failed", async (s) => {
    const f = str(args.remote_file);
    if (!f) return failure("Size failed: no remote_file given");
    const r = await expect(s, `SIZE ${f}`, is2xx);
    const m = /(\d+)\s*(bytes?\s*)?$/.exec(r.message.trimEnd());
    return { success: true, size: m ? Number(m[1]) : null, message: r.message };
  });
}

async function mdtm(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Mdtm failed", async (s) => {
    const f = str(args.remote_file);
    if (!f) return failure("Mdtm failed: no remote_file given");
    const r = await expect(s, `MDTM ${f}`, is2xx);
    // Net::FTP's parse, including its workaround for "19100" years.
    const m = /((\d\d)(\d\d\d?))(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(r.message);
    if (!m) return { success: true, mdtm: null, message: r.message };
    const year = m[2] === "19" ? Number(m[3]) + 1900 : Number(m[1]);
    const epoch =
      Date.UTC(year, Number(m[4]) - 1, Number(m[5]), Number(m[6]), Number(m[7]), Number(m[8])) /
      1000;
    return { success: true, mdtm: epoch, message: r.message };
  });
}

async function passive(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Passive failed", (s) => {
    if (args.passive !== undefined && args.passive !== null) s.passive = flag(args.passive, true);
    return Promise.resolve({ success: true, passive: s.passive ? 1 : 0 });
  });
}

function message(args: Args, ctx: CallContext) {
  const s = sessions(ctx).get(args.connection_id);
  if (!s) return failure(`Invalid connection ID: ${str(args.connection_id) ?? ""}`);
  return { success: true, message: s.lastMessage };
}

async function quit(args: Args, ctx: CallContext) {
  const table = sessions(ctx);
  const id = str(args.connection_id) ?? "";
  if (!table.has(id)) return { success: true };
  // Wait for a running command on this session, then QUIT (in dispose).
  await table.withLock(id, () => {}).catch(() => {});
  await table.delete(id, "quit").catch(() => {});
  return { success: true };
}

function connectionInfo(args: Args, ctx: CallContext) {
  const s = sessions(ctx).get(args.connection_id);
  if (!s) return failure(`Invalid connection ID: ${str(args.connection_id) ?? ""}`);
  const now = Date.now();
  return {
    success: true,
    connection_id: args.connection_id,
    host: s.host,
    state: s.client.closed ? "closed" : s.state,
    transfer_mode: s.transferMode,
    passive: s.passive ? 1 : 0,
    created_at: s.createdAt / 1000,
    last_used: s.lastUsed / 1000,
    age: (now - s.createdAt) / 1000,
    idle_time: (now - s.lastUsed) / 1000,
  };
}

function poolStats(_args: Args, ctx: CallContext) {
  const all = index(ctx);
  let connected = 0, loggedIn = 0;
  for (const s of all.values()) {
    if (s.client.closed) continue;
    if (s.state === "connected") connected++;
    if (s.state === "logged_in") loggedIn++;
  }
  const ids = [...all.keys()];
  return {
    success: true,
    total_connections: ids.length,
    connected,
    logged_in: loggedIn,
    connection_ids: ids,
  };
}

async function cleanupStale(_args: Args, ctx: CallContext) {
  const removed = await sessions(ctx).sweep();
  for (const id of removed) ctx.log.info(`Closed idle FTP connection ${id}`);
  return { success: true, removed: removed.length };
}

export const ftpHelper = defineHelper({
  name: "ftp_helper",
  replaces: "FTPHelper.pm (Net::FTP)",
  functions: {
    new: fn(["host", "debug", "timeout", "port", "passive"], newSession),
    login: fn(["connection_id", "user", "password"], login),
    cwd: fn(["connection_id", "directory"], cwd),
    pwd: fn(["connection_id"], pwd),
    dir: fn(["connection_id", "path"], listing("LIST")),
    ls: fn(["connection_id", "path"], listing("NLST")),
    binary: fn(["connection_id"], typeCommand("binary")),
    ascii: fn(["connection_id"], typeCommand("ascii")),
    get: fn(["connection_id", "remote_file", "local_file"], get),
    put: fn(["connection_id", "local_file", "remote_file"], put),
    delete: fn(["connection_id", "remote_file"], simple("DELE", "remote_file", "Delete failed")),
    rename: fn(["connection_id", "old_name", "new_name"], rename),
    mkdir: fn(["connection_id", "directory", "recurse"], mkdir),
    rmdir: fn(["connection_id", "directory"], simple("RMD", "directory", "Rmdir failed")),
    size: fn(["connection_id", "remote_file"], size),
    mdtm: fn(["connection_id", "remote_file"], mdtm),
    passive: fn(["connection_id", "passive"], passive),
    message: fn(["connection_id"], message),
    quit: fn(["connection_id"], quit),
    get_connection_info: fn(["connection_id"], connectionInfo),
    get_pool_stats: fn([], poolStats),
    cleanup_stale_connections: fn([], cleanupStale),
  },
  cleanupStale: async (ctx) => {
    await cleanupStale({}, ctx);
  },
});

/**
 * Sends TYPE before a transfer when the server's type differs from the session's mode: like
 * ftplib's retrbinary/storbinary, binary mode is binary even though the server starts in ASCII.
 */
async function syncType(s: FtpSession): Promise<void> {
  const want = s.transferMode === "binary" ? "I" : "A";
  if (s.serverType === want) return;
  const r = await s.client.command(`TYPE ${want}`);
  if (!is2xx(r.code)) throw new FtpError("reply", r.raw, r);
  s.serverType = want;
}
