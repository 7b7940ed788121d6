/**
 * @module
 * What the FTP client returns and throws: one server reply (code, raw lines, Net::FTP's
 * `message()` text) and `FtpError`, whose `kind` tells a server refusal from a network failure.
 */

/** One FTP reply. */
export interface FtpReply {
  readonly code: number;
  /** The reply lines as received, codes included, joined with "\n" (e.g. "530 Login incorrect."). */
  readonly raw: string;
  /** Net::FTP's `message()`: each line without its code, each ending in "\n". */
  readonly message: string;
}

/** Why an FTP operation failed. */
export type FtpErrorKind = "connect" | "timeout" | "closed" | "reply" | "aborted" | "local";

/** A failed FTP operation; `reply` is set when the server answered with an error code. */
export class FtpError extends Error {
  readonly kind: FtpErrorKind;
  readonly reply: FtpReply | undefined;
  constructor(kind: FtpErrorKind, message: string, reply?: FtpReply) {
    super(message);
    this.name = "FtpError";
    this.kind = kind;
    this.reply = reply;
  }
}
