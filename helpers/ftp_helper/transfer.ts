/**
 * @module
 * The `ftp_helper` functions that open a data connection: get, put, dir (LIST) and ls (NLST).
 * Transfers follow the session's TYPE like Net::FTP (ASCII until `binary()`); listings are read
 * in ASCII mode and split on LF as Net::FTP's `_list_cmd` does, and their names are returned as
 * the server's bytes. Local paths are relative to the Perl caller's cwd (contract §2.4).
 */

import { basename } from "node:path";
import { bytesToPerl, concatBytes, failure, perlPath } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import { fromCrlf, toCrlf } from "./ascii.ts";
import { expect, type FtpSession, is2xx, onSession, syncType } from "./session.ts";
import { str } from "../types.ts";
import type { FtpReply } from "./client.ts";
import { supported } from "./features.ts";

/**
 * A local file name as Deno can open it (`perlPath`: the file Perl's open would name), resolved
 * against the caller's cwd; undefined when its bytes are not UTF-8, which Deno cannot name.
 */
async function localPath(ctx: CallContext, name: string): Promise<string | undefined> {
  const p = perlPath(name);
  return p === undefined ? undefined : await ctx.resolvePath(p);
}

/** Why a local name cannot be used, with its high bytes shown as \xHH. */
export function unnameable(name: string): string {
  const shown = name.replace(/[\u0080-\u00ff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
  return `the local file name "${shown}" is not UTF-8 bytes, which this daemon cannot use as a path`;
}

/** Net::FTP's `_list_cmd`: the lines of LIST or NLST (CRLF → LF, split on LF, bytes). */
export async function listLines(
  s: FtpSession,
  verb: "LIST" | "NLST",
  path: string,
): Promise<{ lines: string[]; reply: FtpReply }> {
  const parts: Uint8Array[] = [];
  const crlf = fromCrlf();
  const r = await s.client.transfer(path ? `${verb} ${path}` : verb, s.passive, {
    onData: (c) => void parts.push(crlf.push(c)),
  });
  parts.push(crlf.end());
  s.lastMessage = r.message;
  // Perl's split(/\n/, $buf): trailing empty fields are removed.
  const lines = bytesToPerl(concatBytes(parts)).split("\n");
  while (lines.length && lines.at(-1) === "") lines.pop();
  return { lines, reply: r };
}

/** `dir` (LIST) or `ls` (NLST). */
export function listing(verb: "LIST" | "NLST") {
  return (args: Args, ctx: CallContext) =>
    onSession(args, ctx, "Directory listing failed", async (s) => {
      const { lines, reply } = await listLines(s, verb, str(args.path) ?? "");
      return { success: true, listing: lines, message: reply.message };
    });
}

async function writeAll(f: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await f.write(bytes.subarray(off));
}

/** `get`: RETR into a local file (default: the remote name after its last "/"). */
export async function get(args: Args, ctx: CallContext) {
  return await onSession(args, ctx, "Download failed", async (s) => {
    const remote = str(args.remote_file);
    if (!remote) return failure("Download failed: no remote file given");
    const localName = str(args.local_file) ?? remote.replace(/^.*\//, "");
    const local = await localPath(ctx, localName);
    if (local === undefined) return failure(`Download failed: ${unnameable(localName)}`);
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

/** `put`: STOR of a local file (default remote name: its basename). */
export async function put(args: Args, ctx: CallContext) {
  const localName = str(args.local_file);
  if (!localName) return failure("Upload failed: no local file given");
  const local = await localPath(ctx, localName);
  if (local === undefined) return failure(`Upload failed: ${unnameable(localName)}`);
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
        // Net::FTP, in active mode only: ALLO <local size> first when the server supports it.
        beforeCommand: s.passive || info.size === 0 ? undefined : async () => {
          if (await supported(s, "ALLO")) await expect(s, `ALLO ${info.size}`, is2xx);
        },
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
    const out = ascii ? conv.push(buf.subarray(0, n)) : buf.slice(0, n);
    if (out.length) yield out;
  }
  if (ascii) {
    const tail = conv.end();
    if (tail.length) yield tail;
  }
}
