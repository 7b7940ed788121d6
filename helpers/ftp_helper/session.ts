/**
 * @module
 * The server side of one Net::FTP object and the table that holds them: state, transfer mode,
 * the last reply (for `message()`), the Perl caller that created it, and `onSession`, which runs
 * one operation under the session's lock and turns expected failures into return values.
 */

import { str } from "../types.ts";

import { failure } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import type { HandleTable } from "../types.ts";
import { type FtpClient, FtpError, type FtpReply } from "./client.ts";

/** Idle time after which a session is closed (Python's CONNECTION_CLEANUP_TIMEOUT). */
export const FTP_IDLE_TTL_MS = 300_000;

/** Where a session is in its life. */
export type State = "connected" | "logged_in" | "closed";

/** One Net::FTP object's server side. */
export interface FtpSession {
  readonly client: FtpClient;
  readonly host: string;
  state: State;
  /** Net::FTP starts in ASCII (TYPE A) until `binary()` is called. */
  transferMode: "binary" | "ascii";
  /** The TYPE last sent to the server (RFC 959 starts in ASCII). */
  serverType: "A" | "I";
  passive: boolean;
  lastMessage: string;
  /** FEAT's lines, once asked (features.ts). */
  features?: string[];
  /** Net::FTP's `supported()` cache, by upper-case command. */
  readonly supported: Map<string, boolean>;
  readonly createdAt: number;
  lastUsed: number;
}

/** The daemon's table of FTP sessions. */
export function sessions(ctx: CallContext): HandleTable<FtpSession> {
  return ctx.handles<FtpSession>("connections", {
    prefix: "ftp",
    idleTtlMs: FTP_IDLE_TTL_MS,
    dispose: async (s) => {
      s.state = "closed";
      if (s.client.closed) return;
      s.client.timeoutMs = Math.min(s.client.timeoutMs, 2000);
      s.client.signal = undefined;
      await s.client.command("QUIT").catch(() => {});
      s.client.close("quit");
    },
  });
}

/** A Perl truth value; undef and absent give `dflt`. */
export const flag = (v: unknown, dflt: boolean): boolean =>
  v === undefined || v === null ? dflt : !(v === false || v === 0 || v === "0" || v === "");

/** The error text of a failed operation: the server reply, or what went wrong locally. */
export function describe(err: unknown): string {
  if (err instanceof FtpError) return err.reply ? err.reply.raw : err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `op` on the session under its lock, recording the last reply as the session's message.
 * Expected failures become `{success:false, error:"<prefix>: <reason>"}`.
 */
export async function onSession(
  args: Args,
  ctx: CallContext,
  prefix: string,
  op: (s: FtpSession) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const table = sessions(ctx);
  const id = str(args.connection_id) ?? "";
  if (!table.get(id)) return failure(`Invalid connection ID: ${id}`);
  return await table.withLock(id, async (s) => {
    s.lastUsed = ctx.clock.now();
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
      s.lastUsed = ctx.clock.now();
    }
  });
}

/** True for a 2xx reply code. */
export const is2xx = (c: number): boolean => c >= 200 && c < 300;

/** Sends one command that must succeed (`ok(code)`); records its message. */
export async function expect(
  s: FtpSession,
  line: string,
  ok: (code: number) => boolean,
): Promise<FtpReply> {
  const r = await s.client.command(line);
  s.lastMessage = r.message;
  if (!ok(r.code)) throw new FtpError("reply", r.raw, r);
  return r;
}

/**
 * Sends TYPE before a transfer when the server's type differs from the session's mode. Net::FTP
 * never sends TYPE on its own: a new session is ASCII on both sides, so nothing is sent until
 * `binary()` or `ascii()`.
 */
export async function syncType(s: FtpSession): Promise<void> {
  const want = s.transferMode === "binary" ? "I" : "A";
  if (s.serverType === want) return;
  const r = await s.client.command(`TYPE ${want}`);
  if (!is2xx(r.code)) throw new FtpError("reply", r.raw, r);
  s.serverType = want;
}
