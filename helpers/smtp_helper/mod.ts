/**
 * @module
 * `smtp_helper`: serves SMTPHelper.pm, which defines package `Net::SMTP` (helpers contract §3.11).
 * Flat results; one connection per `connection_id` (`smtp_<epoch>_<8 hex>`), idle TTL 300 s;
 * calls on one connection run one at a time. EHLO (HELO fallback) is sent by `new`, as Net::SMTP
 * does. DEFECT-FIX (§3.11): DATA is sent as Net::Cmd sends it (CRLF line ends, dot-stuffing),
 * not raw; each `datasend` chunk goes out at once, `datasend` without data ends the message.
 */

import { str } from "../types.ts";

import type { HandleTable } from "../types.ts";
import { bytesToPerl, defineHelper, failure, fn, perlBytes } from "../types.ts";
import type { Args, CallContext } from "../types.ts";
import {
  dataEnd,
  replyText,
  SmtpClient,
  SmtpIoError,
  type SmtpReply,
  stuffChunk,
} from "./client.ts";

/** Idle time after which a connection is closed (Python's cleanup timeout). */
export const SMTP_IDLE_TTL_MS = 300_000;

type State = "connected" | "data_mode" | "closed";

/** One Net::SMTP object's server side. */
interface SmtpSession {
  readonly client: SmtpClient;
  readonly host: string;
  readonly port: number;
  state: State;
  sender: string | null;
  recipients: string[];
  /** Net::Cmd's `net_cmd_last_ch` ("" = no data sent yet). */
  lastCh: string;
  dataBytes: number;
  readonly createdAt: number;
  lastUsed: number;
}

/**
 * The daemon's table of SMTP sessions. Statistics read it with `peek()` and `values()`, which do
 * not count as use (a `get` resets the idle timer).
 */
function sessions(ctx: CallContext): HandleTable<SmtpSession> {
  return ctx.handles<SmtpSession>("connections", {
    prefix: "smtp",
    idleTtlMs: SMTP_IDLE_TTL_MS,
    dispose: async (s, reason) => {
      const inData = s.state === "data_mode";
      s.state = "closed";
      if (s.client.closed) return;
      if (inData) return s.client.close("abandoned in DATA"); // QUIT would be taken as data
      s.client.timeoutMs = Math.min(s.client.timeoutMs, 2000);
      s.client.signal = undefined;
      ctx.log.info(`closing SMTP connection to ${s.host}:${s.port}: ${reason}`);
      await s.client.command("QUIT").catch(() => {});
      s.client.close("quit");
    },
  });
}

const ok2 = (r: SmtpReply) => r.code >= 200 && r.code < 300;

/** Net::SMTP's `_addr`: the `<…>` part if present, else the trimmed address in brackets. */
export function smtpAddr(a: string): string {
  const [, bracketed] = /(<[^>]*>)/.exec(a) ?? [];
  return bracketed ?? `<${a.trim()}>`;
}

/**
 * The bytes Net::SMTP would write for a Perl string (the Perl string rule, `perlBytes`): a byte
 * string as is; a string with a wider character as its UTF-8, where Net::Cmd dies with "Wide
 * character in syswrite" (docs/helpers/smtp_helper.md). Held one character per byte for
 * `stuffChunk`.
 */
const byteString = (s: string): string => bytesToPerl(perlBytes(s));

/**
 * Runs `op` on the session under its lock. Reply errors keep the connection (as Net::SMTP does);
 * network errors close it and drop it from the pool.
 */
async function onSession(
  args: Args,
  ctx: CallContext,
  op: (s: SmtpSession, id: string) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const table = sessions(ctx);
  const id = str(args.connection_id) ?? "";
  if (!table.get(id)) return failure(`Invalid connection ID: ${id}`);
  const r = await table.withLock(id, async (s) => {
    s.lastUsed = ctx.clock.now();
    s.client.signal = ctx.signal;
    try {
      return await op(s, id);
    } catch (e) {
      if (!(e instanceof SmtpIoError)) throw e;
      s.state = "closed";
      return failure(`${e.message}; the connection is closed, create a new Net::SMTP object`, {
        drop: true,
      });
    } finally {
      s.client.signal = undefined;
    }
  });
  if (r.drop) {
    delete r.drop;
    await table.delete(id, "connection lost");
  }
  return r;
}

const stateError = (f: string, s: SmtpSession) =>
  failure(`Cannot call ${f}() in state: ${s.state}`);

async function newConnection(args: Args, ctx: CallContext) {
  const hostArg = str(args.host) ?? "localhost";
  const [, hpHost, hpPort] = /^([^:]+):(\d+)$/.exec(hostArg) ?? [];
  const host = hpHost ?? hostArg;
  const port = hpHost !== undefined ? Number(hpPort) : Number(str(args.port) ?? 25);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    return failure(`Invalid port: ${args.port}`);
  }
  const t = Number(str(args.timeout) ?? 30);
  const timeoutMs = (Number.isFinite(t) && t > 0 ? t : 30) * 1000;
  const hello = str(args.localhost) || str(args.hello) || "localhost.localdomain";
  try {
    const { client, greeting } = await SmtpClient.connect({
      host,
      port,
      timeoutMs,
      signal: ctx.signal,
    });
    if (Number(str(args.debug) ?? 0) > 0) {
      client.trace = (l) => ctx.log.debug(`${host}:${port} ${l}`);
    }
    try {
      let r = await client.command(`EHLO ${hello}`);
      if (!ok2(r)) r = await client.command(`HELO ${hello}`);
      if (!ok2(r)) {
        client.close("hello refused");
        return failure(`SMTP connection failed: ${host}:${port} refused HELO: ${replyText(r)}`);
      }
    } catch (e) {
      client.close("hello failed");
      throw e;
    }
    client.signal = undefined;
    const now = ctx.clock.now();
    const s: SmtpSession = {
      client,
      host,
      port,
      state: "connected",
      sender: null,
      recipients: [],
      lastCh: "",
      dataBytes: 0,
      createdAt: now,
      lastUsed: now,
    };
    const id = sessions(ctx).add(s);
    ctx.log.info(`Connected to SMTP ${host}:${port} as ${id}`);
    return { success: true, connection_id: id, message: greeting.lines.join("\n") };
  } catch (e) {
    return failure(`SMTP connection failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function mail(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    if (s.state !== "connected") return stateError("mail", s);
    const sender = str(args.sender) ?? "";
    const r = await s.client.command(`MAIL FROM:${smtpAddr(sender)}`);
    if (!ok2(r)) return failure(`MAIL command failed: ${replyText(r)}`);
    s.sender = sender;
    s.recipients = [];
    return { success: true, message: replyText(r) };
  });
}

function to(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    if (s.state !== "connected") return stateError("to", s);
    if (s.sender === null) return failure("Cannot call to() before mail()");
    const list = Array.isArray(args.recipient)
      ? args.recipient.map(String)
      : [str(args.recipient) ?? ""];
    let last: SmtpReply | undefined;
    for (const rcpt of list) {
      last = await s.client.command(`RCPT TO:${smtpAddr(rcpt)}`);
      if (last.code !== 250 && last.code !== 251) {
        return failure(`RCPT command failed: ${replyText(last)}`);
      }
      s.recipients.push(rcpt);
    }
    return { success: true, message: last ? replyText(last) : "" };
  });
}

function data(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    if (s.state !== "connected") return stateError("data", s);
    if (s.sender === null || s.recipients.length === 0) {
      return failure("Cannot call data() before mail() and to()");
    }
    const r = await s.client.command("DATA");
    if (r.code !== 354) return failure(`DATA command failed: ${replyText(r)}`);
    s.state = "data_mode";
    s.lastCh = "";
    s.dataBytes = 0;
    return { success: true, message: replyText(r) };
  });
}

function datasend(args: Args, ctx: CallContext) {
  return onSession(args, ctx, async (s) => {
    if (s.state !== "data_mode") return stateError("datasend", s);
    const d = args.data;
    if (d !== undefined && d !== null) {
      const text = Array.isArray(d) ? d.map(String).join("") : String(d);
      const { out, last } = stuffChunk(byteString(text), s.lastCh);
      if (out) await s.client.write(perlBytes(out));
      s.lastCh = last;
      s.dataBytes += out.length;
      return { success: true, bytes_sent: out.length };
    }
    // No data: end the message (Net::SMTP's dataend).
    if (s.lastCh === "") {
      return failure("Message send failed: no data to send (call datasend with the message first)");
    }
    await s.client.write(perlBytes(dataEnd(s.lastCh)));
    const r = await s.client.readReply();
    s.state = "connected";
    s.sender = null;
    s.recipients = [];
    s.lastCh = "";
    if (!ok2(r)) return failure(`Message send failed: ${replyText(r)}`);
    ctx.log.info(`${s.host}:${s.port}: message accepted (${s.dataBytes} bytes)`);
    return { success: true, message: replyText(r) };
  });
}

async function quit(args: Args, ctx: CallContext) {
  const table = sessions(ctx);
  const id = str(args.connection_id) ?? "";
  if (!table.get(id)) return { success: true, warning: `Connection ${id} was not open` };
  const r = await table.withLock(id, async (s) => {
    if (s.client.closed) {
      return { success: true, warning: `Connection already closed (${s.client.closeReason})` };
    }
    if (s.state === "data_mode") {
      s.client.close("quit in DATA"); // QUIT would be taken as message text
      return {
        success: true,
        warning: "Message abandoned: quit() called before the message was ended",
      };
    }
    s.client.timeoutMs = Math.min(s.client.timeoutMs, 5000);
    const reply = await s.client.command("QUIT").catch((e) => e as Error);
    s.client.close("quit");
    return reply instanceof Error
      ? { success: true, warning: reply.message }
      : { success: true, message: replyText(reply) };
  });
  await table.delete(id, "quit");
  return r;
}

function connectionInfo(args: Args, ctx: CallContext) {
  const id = str(args.connection_id) ?? "";
  const s = sessions(ctx).peek(id);
  if (!s) return failure(`Invalid connection ID: ${id}`);
  const now = ctx.clock.now();
  return {
    success: true,
    connection: {
      id,
      host: s.host,
      port: s.port,
      state: s.client.closed ? "closed" : s.state,
      sender: s.sender,
      recipients: [...s.recipients],
      buffer_size: s.dataBytes,
      age: (now - s.createdAt) / 1000,
      idle: (now - s.lastUsed) / 1000,
    },
  };
}

function poolStats(_args: Args, ctx: CallContext) {
  const states: Record<string, number> = {};
  const open = sessions(ctx).values();
  for (const s of open) {
    const st = s.client.closed ? "closed" : s.state;
    states[st] = (states[st] ?? 0) + 1;
  }
  return {
    success: true,
    stats: {
      active_connections: open.length,
      states,
      cleanup_timeout: SMTP_IDLE_TTL_MS / 1000,
    },
  };
}

async function cleanupStale(_args: Args, ctx: CallContext) {
  const closed = await sessions(ctx).sweep();
  return {
    success: true,
    cleaned: closed.length,
    active_connections: sessions(ctx).values().length,
  };
}

export const smtpHelper = defineHelper({
  name: "smtp_helper",
  replaces: "SMTPHelper.pm (Net::SMTP)",
  functions: {
    new: fn(["host", "port", "timeout", "debug", "localhost"], newConnection),
    mail: fn(["connection_id", "sender"], mail),
    to: fn(["connection_id", "recipient"], to),
    data: fn(["connection_id"], data),
    datasend: fn(["connection_id", "data"], datasend),
    quit: fn(["connection_id"], quit),
    get_connection_info: fn(["connection_id"], connectionInfo),
    get_pool_stats: fn([], poolStats),
    cleanup_stale_connections: fn([], cleanupStale),
  },
});
