/**
 * @module
 * A small command-level SMTP client on `Deno.connect`, shaped like Net::Cmd/Net::SMTP: one
 * command, one reply; DATA bytes transformed exactly as Net::Cmd's `datasend`/`dataend` do
 * (`\r?\n` → CRLF, dot-stuffing, terminator), so the server receives what Net::SMTP would send.
 * Every read and write has a time limit; a silent server closes the connection, never blocks.
 */

import { perlBytes } from "../types.ts";

/** One SMTP reply: code and text lines. */
export interface SmtpReply {
  readonly code: number;
  readonly lines: string[];
}

/** "250 text" of a reply, for error messages. */
export const replyText = (r: SmtpReply) => `${r.code} ${r.lines.join(" ")}`.trim();

/** A network or protocol failure (the connection is closed afterwards). */
export class SmtpIoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SmtpIoError";
  }
}

/** One SMTP connection. */
export class SmtpClient {
  closed = false;
  closeReason = "";
  /** Called with each command and reply line (never with DATA bytes). */
  trace: ((line: string) => void) | undefined;
  #buf = "";
  #decoder = new TextDecoder("latin1");

  private constructor(
    readonly conn: Deno.Conn,
    readonly label: string,
    public timeoutMs: number,
    public signal: AbortSignal | undefined,
  ) {}

  /** Connects and reads the greeting (which must be 220). */
  static async connect(
    o: { host: string; port: number; timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ client: SmtpClient; greeting: SmtpReply }> {
    const label = `${o.host}:${o.port}`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const conn = await Promise.race([
      Deno.connect({ hostname: o.host, port: o.port }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new SmtpIoError(`Timed out after ${o.timeoutMs / 1000} s connecting to ${label}`),
            ),
          o.timeoutMs,
        );
      }),
    ]).catch((e) => {
      throw e instanceof SmtpIoError ? e : new SmtpIoError(`${label}: ${netMessage(e)}`);
    }).finally(() => clearTimeout(timer));
    const client = new SmtpClient(conn, label, o.timeoutMs, o.signal);
    const greeting = await client.readReply();
    if (greeting.code !== 220) {
      client.close("bad greeting");
      throw new SmtpIoError(`${label} refused the session: ${replyText(greeting)}`);
    }
    return { client, greeting };
  }

  /** Closes the connection (idempotent). */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  /** Runs `p` with the time limit and abort signal; on either, closes the connection. */
  async #limit<T>(what: string, p: Promise<T>): Promise<T> {
    if (this.closed) throw new SmtpIoError(`not connected (${this.closeReason})`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const m = `${what}: no answer from ${this.label} within ${this.timeoutMs / 1000} s`;
            this.close(m);
            reject(new SmtpIoError(`${m}; connection closed`));
          }, this.timeoutMs);
          onAbort = () => {
            this.close("call aborted");
            reject(new SmtpIoError(`${what}: call aborted (daemon time limit or shutdown)`));
          };
          this.signal?.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
    } catch (e) {
      if (e instanceof SmtpIoError) throw e;
      this.close(netMessage(e));
      throw new SmtpIoError(`${what}: ${netMessage(e)}`);
    } finally {
      clearTimeout(timer);
      if (onAbort) this.signal?.removeEventListener("abort", onAbort);
    }
  }

  async #readLine(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf("\n");
      if (i >= 0) {
        const line = this.#buf.slice(0, i).replace(/\r$/, "");
        this.#buf = this.#buf.slice(i + 1);
        return line;
      }
      const chunk = new Uint8Array(16 * 1024);
      const n = await this.#limit("reading the reply", this.conn.read(chunk));
      if (n === null) {
        this.close("connection closed by the server");
        throw new SmtpIoError(`${this.label} closed the connection`);
      }
      this.#buf += this.#decoder.decode(chunk.subarray(0, n));
    }
  }

  /** Reads one (possibly multi-line) reply. */
  async readReply(): Promise<SmtpReply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.#readLine();
      const [, code, separator, text = ""] = /^(\d{3})([ -]?)(.*)$/.exec(line) ?? [];
      if (code === undefined) {
        this.close("protocol error");
        throw new SmtpIoError(`${this.label} sent a malformed reply: ${line.slice(0, 80)}`);
      }
      lines.push(text);
      if (separator !== "-") {
        const r = { code: Number(code), lines };
        this.trace?.(`S: ${replyText(r)}`);
        return r;
      }
    }
  }

  /** Writes all bytes within the time limit. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      off += await this.#limit("sending", this.conn.write(bytes.subarray(off)));
    }
  }

  /** Sends one command line and reads its reply. */
  async command(line: string): Promise<SmtpReply> {
    this.trace?.(`C: ${line}`);
    // Net::Cmd writes the command's bytes: a Perl byte string as is (the Perl string rule).
    await this.write(perlBytes(`${line}\r\n`));
    return await this.readReply();
  }
}

function netMessage(e: unknown): string {
  if (e instanceof Deno.errors.ConnectionRefused) return "Connection refused";
  if (e instanceof Deno.errors.ConnectionReset) return "Connection reset by peer";
  if (e instanceof Deno.errors.NotFound) return "Name or service not known";
  return e instanceof Error ? e.message : String(e);
}

/**
 * Net::Cmd's `datasend` transformation with its state (`net_cmd_last_ch`): `\r?\n` becomes CRLF
 * and a "." at the start of a line is doubled, across chunk boundaries. `last` is "" before the
 * first chunk. Works on bytes held in a latin1 string, like Perl's byte strings.
 */
export function stuffChunk(line: string, last: string): { out: string; last: string } {
  // Net::Cmd: even an empty chunk marks the start of the data ("" → at the start of a line).
  if (line === "") return { out: "", last: last === "" ? "\n" : last };
  if (last === "") last = "\n";
  let first = "";
  if (last === "\r") {
    line = line.replace(/^\n(\.?)/, (_m, dot: string) => {
      first = "\n";
      return dot + dot;
    });
  } else if (last === "\n" && line.startsWith(".")) first = ".";
  line = first + line.replace(/\r?\n(\.?)/g, (_m, dot: string) => `\r\n${dot}${dot}`);
  return { out: line, last: line.slice(-1) };
}

/** What Net::Cmd's `dataend` sends after the data: CRLF if needed, then ".\r\n". */
export function dataEnd(last: string): string {
  return last === "\n" ? ".\r\n" : "\r\n.\r\n";
}
