/**
 * @module
 * `email_helper`: serves MailHelper.pm, which replaces Mail::Sender (helpers contract §3.9).
 * Stateless; one SMTP session per call through nodemailer (plain SMTP, no STARTTLS, like the
 * Python helper; optional AUTH with Mail::Sender's `auth`/`authid`/`authpwd`). DEFECT-FIX (§2.5):
 * results carry `success` (Python omitted it) and failures are returned, never thrown, so a
 * message is never re-sent by the client's retry. Attachment paths are relative to the caller's
 * cwd (§2.4) and read bounded (`readRegularFile`). Bodies are the Perl strings' bytes and the
 * subject decodes to them (docs/helpers/email_helper.md: Mail::Sender is not in Debian, so the
 * basis is its 0.903 source and MailHelper.pm's calls).
 */

import { Buffer } from "node:buffer";
import { basename } from "node:path";
import nodemailer from "nodemailer";
import {
  defineHelper,
  failure,
  FileReadError,
  fn,
  isByteString,
  perlBytes,
  perlText,
  readRegularFile,
} from "./types.ts";
import type { Args, CallContext } from "./types.ts";

const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : perlText(String(v));

/**
 * A body as the bytes Mail::Sender writes (the Perl string rule): a byte string as is, so Latin-1
 * or binary bytes are not re-encoded; a string with a wider character as its UTF-8.
 */
const bodyBytes = (v: unknown): Buffer | undefined =>
  v === undefined || v === null ? undefined : Buffer.from(perlBytes(String(v)));

/**
 * The Subject as bytes. Mail::Sender without `charset` (MailHelper.pm sends none) writes the
 * subject's bytes raw; nodemailer writes RFC 2047 encoded words, so the bytes are what the
 * reader decodes: text (ASCII, UTF-8 bytes, wide characters) is given to nodemailer as text, a
 * byte string that is not UTF-8 becomes an ISO-8859-1 encoded word of exactly those bytes.
 */
function subjectHeader(
  v: unknown,
): { subject?: string; header?: { prepared: true; value: string } } {
  if (v === undefined || v === null) return { subject: "" };
  const raw = String(v);
  const text = perlText(raw);
  if (text !== raw || !isByteString(raw) || !/[\u0080-\u00ff]/.test(raw)) return { subject: text };
  const b64 = Buffer.from(perlBytes(raw)).toString("base64");
  return { header: { prepared: true, value: `=?ISO-8859-1?B?${b64}?=` } };
}

/** `to`/`cc`/`bcc` as a comma-separated string or an array. */
const addrList = (v: unknown): string[] =>
  (Array.isArray(v) ? v.map((x) => perlText(String(x))) : (str(v) ?? "").split(",")).map((a) =>
    a.trim()
  ).filter(
    Boolean,
  );

/** Content-Transfer-Encoding names as Mail::Sender accepts them ("Base64", "7BIT", …). */
function transferEncoding(v: unknown): string | undefined {
  const e = str(v)?.toLowerCase();
  if (!e) return undefined;
  if (e === "quoted-printable" || e === "base64" || e === "7bit" || e === "8bit") return e;
  return undefined;
}

/** Mail::Sender's `headers`: a hash, or header lines in a string. */
function parseHeaders(v: unknown): Record<string, string> {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, perlText(String(x))]));
  }
  const out: Record<string, string> = {};
  for (const line of (str(v) ?? "").split(/\r?\n/)) {
    const [, name, value = ""] = /^([^:\s]+):\s*(.*)$/.exec(line) ?? [];
    if (name !== undefined) out[name] = value;
  }
  return out;
}

/** One attachment as nodemailer wants it, read now so a missing file fails before sending. */
async function attachment(a: Record<string, unknown>, ctx: CallContext) {
  const file = str(a.file) ?? str(a.path);
  if (!file) throw new Error("attachment without a file");
  const path = await ctx.resolvePath(file);
  let content: Uint8Array;
  try {
    content = await readRegularFile(path, ctx.settings.maxFileBytes);
  } catch (e) {
    if (!(e instanceof FileReadError)) throw e;
    throw new Error(
      e.kind === "not_found"
        ? `Cannot read attachment ${path}: No such file or directory`
        : `Cannot read attachment ${path}: ${e.message}`,
    );
  }
  const disposition = str(a.disposition)?.replace(/;[\s\S]*$/, "").trim().toLowerCase();
  const fromDisposition = /filename="?([^";]+)"?/.exec(str(a.disposition) ?? "")?.[1];
  const cte = transferEncoding(a.encoding);
  return {
    filename: str(a.name) ?? fromDisposition ?? basename(path),
    content: Buffer.from(content),
    ...(str(a.ctype) ? { contentType: str(a.ctype) } : {}),
    ...(disposition === "inline" || disposition === "attachment"
      ? { contentDisposition: disposition }
      : {}),
    ...(cte ? { contentTransferEncoding: cte } : {}),
    ...(str(a.description) ? { headers: { "Content-Description": str(a.description)! } } : {}),
  };
}

interface Mail {
  body?: unknown;
  html?: unknown;
  bodyEncoding?: unknown;
  attachments?: Record<string, unknown>[];
}

/** Sends one message; every failure comes back as `{success:false, error}`. */
async function send(args: Args, ctx: CallContext, mail: Mail): Promise<Record<string, unknown>> {
  const host = str(args.smtp_host) ?? str(args.smtp) ?? "localhost";
  const port = Number(str(args.smtp_port) ?? str(args.port) ?? 25);
  const from = str(args.from) ?? str(args.fromaddr);
  const to = addrList(args.to);
  if (!from) return failure("No sender: give 'from'");
  if (to.length === 0) return failure("No recipient: give 'to'");
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    return failure(`Invalid smtp_port: ${args.smtp_port}`);
  }
  let attachments;
  try {
    attachments = await Promise.all((mail.attachments ?? []).map((a) => attachment(a, ctx)));
  } catch (e) {
    return failure((e as Error).message);
  }
  const t = Number(str(args.timeout) ?? 60);
  const timeoutMs = Math.min(
    (Number.isFinite(t) && t > 0 ? t : 60) * 1000,
    ctx.settings.helperTimeoutMs,
  );
  const authUser = str(args.authid);
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: false,
    ignoreTLS: true,
    name: str(args.client) ?? "localhost",
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    logger: false,
    ...(authUser ? { auth: { user: authUser, pass: str(args.authpwd) ?? "" } } : {}),
  });
  const onAbort = () => transport.close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const enc = transferEncoding(mail.bodyEncoding);
  const subject = subjectHeader(args.subject);
  const headers: Record<string, string | { prepared: boolean; value: string }> = parseHeaders(
    args.headers,
  );
  if (subject.header) headers.Subject = subject.header;
  try {
    const info = await transport.sendMail({
      from,
      to,
      ...(addrList(args.cc).length ? { cc: addrList(args.cc) } : {}),
      ...(addrList(args.bcc).length ? { bcc: addrList(args.bcc) } : {}),
      ...(str(args.replyto) ? { replyTo: str(args.replyto) } : {}),
      ...(subject.subject !== undefined ? { subject: subject.subject } : {}),
      ...(mail.html !== undefined && mail.html !== null
        ? { html: bodyBytes(mail.html) }
        : { text: bodyBytes(mail.body) ?? "" }),
      ...(enc === "base64" || enc === "quoted-printable" ? { textEncoding: enc } : {}),
      headers,
      attachments,
    });
    ctx.log.info(
      `mail from ${from} to ${to.length} recipient(s) via ${host}:${port}: ${info.response}`,
    );
    const rejected = (info.rejected ?? []).map(String);
    return {
      success: true,
      status: "sent",
      message: "Email sent successfully",
      message_id: info.messageId,
      accepted: (info.accepted ?? []).map(String),
      rejected,
      ...(rejected.length ? { warning: `Rejected recipients: ${rejected.join(", ")}` } : {}),
    };
  } catch (e) {
    const err = e as Error & { code?: string; responseCode?: number };
    const why = err.code === "EAUTH"
      ? `authentication failed${err.responseCode ? ` (${err.responseCode})` : ""}`
      : /ECONNREFUSED/.test(err.message)
      ? "Connection refused"
      : err.message;
    return failure(`Cannot send mail via ${host}:${port}: ${why}`, { status: "failed" });
  } finally {
    ctx.signal.removeEventListener("abort", onAbort);
    transport.close();
  }
}

const COMMON = ["smtp_host", "smtp_port", "from", "to", "subject"];

/** A syntactic check, as Mail::Sender's address parsing would accept. */
function validateEmail(args: Args) {
  const email = str(args.email) ?? "";
  const valid =
    /^[^\s@<>(),;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/
      .test(email.trim());
  return { success: true, valid, email };
}

export const emailHelper = defineHelper({
  name: "email_helper",
  replaces: "MailHelper.pm (Mail::Sender)",
  functions: {
    send_multipart: fn(
      [...COMMON, "body", "body_encoding", "attachments", "headers", "multipart_type"],
      (a, ctx) =>
        send(a, ctx, {
          body: a.body ?? a.msg,
          bodyEncoding: a.body_encoding,
          attachments: Array.isArray(a.attachments) ? a.attachments : [],
        }),
      { variadic: true },
    ),
    send_with_file: fn(
      [...COMMON, "msg", "file"],
      (a, ctx) => {
        const files = Array.isArray(a.file)
          ? a.file.map(String)
          : (str(a.file) ?? "").split(",").filter(Boolean);
        return send(a, ctx, {
          body: a.msg,
          attachments: files.map((file) => ({ file: file.trim() })),
        });
      },
      { variadic: true },
    ),
    send_simple: fn(
      [...COMMON, "msg"],
      (a, ctx) => send(a, ctx, { body: a.msg ?? a.body }),
      {
        variadic: true,
      },
    ),
    send_email: fn(
      [...COMMON, "body"],
      (a, ctx) => send(a, ctx, { body: a.body ?? a.msg }),
      {
        variadic: true,
      },
    ),
    send_html_email: fn(
      [...COMMON, "html"],
      (a, ctx) => send(a, ctx, { html: a.html ?? a.body ?? "" }),
      { variadic: true },
    ),
    validate_email: fn(["email"], validateEmail),
  },
});
