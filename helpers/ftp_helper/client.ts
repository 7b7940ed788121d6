/**
 * @module
 * A small FTP client (RFC 959) on `Deno.connect`: one control connection, passive (PASV) or
 * active (PORT) data connections, and an inactivity timeout on every read, write and connect,
 * as Net::FTP's `Timeout`. Replies keep their text so `message()` can return what Net::FTP does.
 * Written instead of basic-ftp because Net::FTP fidelity needs raw LIST lines, TYPE A with
 * client-side CRLF conversion, the exact reply texts and PORT mode. Commands go out as the Perl
 * string's bytes (`perlBytes`) and replies come back one character per byte (`bytesToPerl`), as
 * Net::Cmd writes and reads them.
 */

import { bytesToPerl, perlBytes } from "../types.ts";
import { closeQuietly, timed } from "./_timed.ts";
import { FtpError, type FtpReply } from "./error.ts";

export { FtpError, type FtpErrorKind, type FtpReply } from "./error.ts";

/** Options of `FtpClient.connect`. */
export interface FtpConnectOptions {
  readonly host: string;
  readonly port: number;
  /** Inactivity limit for every network wait, ms. */
  readonly timeoutMs: number;
  /** Aborts the current operation (daemon shutdown, call timeout). */
  readonly signal?: AbortSignal | undefined;
  /** Receives each command and reply line (PASS is masked). */
  readonly trace?: ((line: string) => void) | undefined;
}

/** The longest reply line accepted; a server sending more is dropped. */
const MAX_REPLY_LINE = 1 << 20;
/** The most lines of one multi-line reply. */
const MAX_REPLY_LINES = 10_000;

/** Converts a dotted-quad PASV reply `(h1,h2,h3,h4,p1,p2)` to a port. */
function pasvPort(reply: FtpReply): number {
  const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(reply.raw);
  if (!m) throw new FtpError("reply", `Cannot parse PASV reply: ${reply.raw}`, reply);
  return Number(m[5]) * 256 + Number(m[6]);
}

/** The control connection of one FTP session. */
export class FtpClient {
  readonly host: string;
  readonly port: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  #conn: Deno.TcpConn;
  #buf = "";
  #closed = false;
  #closeReason = "";
  readonly #trace: ((line: string) => void) | undefined;

  private constructor(conn: Deno.TcpConn, opts: FtpConnectOptions) {
    this.#conn = conn;
    this.host = opts.host;
    this.port = opts.port;
    this.timeoutMs = opts.timeoutMs;
    this.signal = opts.signal;
    this.#trace = opts.trace;
  }

  /** Opens the control connection and reads the greeting (a 2xx reply). */
  static async connect(
    opts: FtpConnectOptions,
  ): Promise<{ client: FtpClient; greeting: FtpReply }> {
    const conn = await timed(
      opts.timeoutMs,
      opts.signal,
      `connecting to ${opts.host}:${opts.port}`,
      (signal) => Deno.connect({ hostname: opts.host, port: opts.port, signal }),
    );
    const client = new FtpClient(conn, opts);
    try {
      const greeting = await client.readReply("waiting for the server greeting");
      if (greeting.code >= 400) throw new FtpError("reply", greeting.raw, greeting);
      return { client, greeting };
    } catch (err) {
      client.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection is closed, for "not connected" errors. */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Closes the control connection without QUIT. */
  close(reason = "closed"): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /** Sends a command and reads its reply (1xx replies are returned too). */
  async command(line: string): Promise<FtpReply> {
    await this.send(line);
    return await this.readReply(`waiting for the reply to ${line.split(" ")[0]}`);
  }

  async send(line: string): Promise<void> {
    if (this.#closed) throw new FtpError("closed", `Connection closed (${this.#closeReason})`);
    if (/[\r\n]/.test(line)) {
      throw new FtpError(
        "local",
        `Bad FTP argument (contains a line break): ${JSON.stringify(line)}`,
      );
    }
    this.#trace?.(`>>> ${/^PASS /i.test(line) ? "PASS ...." : line}`);
    const bytes = perlBytes(`${line}\r\n`);
    await this.#io(`sending ${line.split(" ")[0]}`, async () => {
      let off = 0;
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
    });
  }

  /** Reads one complete (possibly multi-line) reply. */
  async readReply(what: string): Promise<FtpReply> {
    const lines: string[] = [];
    let code = "";
    for (;;) {
      const line = await this.#readLine(what);
      this.#trace?.(`<<< ${line}`);
      if (lines.length === 0) {
        const m = /^(\d{3})([ -])/.exec(line);
        if (!m) throw new FtpError("reply", `Unexpected reply from the server: ${line}`);
        code = line.slice(0, 3); // the three digits just matched
        lines.push(line);
        if (m[2] === " ") break;
      } else {
        lines.push(line);
        if (line.startsWith(`${code} `)) break;
        if (lines.length > MAX_REPLY_LINES) {
          this.close("reply too long");
          throw new FtpError("closed", `The server sent a reply of over ${MAX_REPLY_LINES} lines`);
        }
      }
    }
    const message = lines.map((l) => l.replace(/^\d{3}[ -]?/, "") + "\n").join("");
    return { code: Number(code), raw: lines.join("\n"), message };
  }

  async #readLine(what: string): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf("\n");
      if (i >= 0) {
        const line = this.#buf.slice(0, i).replace(/\r$/, "");
        this.#buf = this.#buf.slice(i + 1);
        return line;
      }
      const chunk = new Uint8Array(4096);
      const n = await this.#io(what, () => this.#conn.read(chunk));
      if (n === null) {
        this.close("the server closed the connection");
        throw new FtpError("closed", `The server closed the connection while ${what}`);
      }
      this.#buf += bytesToPerl(chunk.subarray(0, n));
      if (this.#buf.length > MAX_REPLY_LINE) {
        this.close("reply line too long");
        throw new FtpError("closed", `The server sent a reply line over ${MAX_REPLY_LINE} bytes`);
      }
    }
  }

  /** Runs one network wait under the inactivity timeout; a timeout closes the connection. */
  #io<R>(what: string, op: () => Promise<R>): Promise<R> {
    return timed(
      this.timeoutMs,
      this.signal,
      what,
      () => op(),
      () => this.close(`timed out ${what}`),
    )
      .catch((err) => {
        if (err instanceof FtpError) throw err;
        if (this.#closed && this.#closeReason.startsWith("timed out")) {
          throw new FtpError("timeout", `Timed out after ${this.timeoutMs / 1000} s ${what}`);
        }
        this.close(`connection error: ${err instanceof Error ? err.message : err}`);
        throw new FtpError(
          "closed",
          `Connection lost while ${what}: ${err instanceof Error ? err.message : err}`,
        );
      });
  }

  /**
   * Runs a data command (RETR, STOR, LIST, NLST). `onData` receives downloaded bytes; `source`
   * yields bytes to upload. Returns the final reply; throws FtpError on any failure.
   */
  async transfer(
    cmd: string,
    passive: boolean,
    io: {
      onData?: (chunk: Uint8Array) => Promise<void> | void;
      source?: AsyncIterable<Uint8Array>;
      /** Runs after PASV/PORT, before `cmd` (Net::FTP's ALLO); a throw ends the transfer. */
      beforeCommand?: (() => Promise<void>) | undefined;
    },
  ): Promise<FtpReply> {
    let data: Deno.Conn | undefined;
    let listener: Deno.TcpListener | undefined;
    try {
      if (passive) {
        const r = await this.command("PASV");
        if (r.code !== 227) throw new FtpError("reply", r.raw, r);
        // Like ftplib, connect to the control host, not the address in the reply.
        const port = pasvPort(r);
        data = await timed(
          this.timeoutMs,
          this.signal,
          `opening the data connection to ${this.host}:${port}`,
          (signal) => Deno.connect({ hostname: this.host, port, signal }),
        );
      } else {
        const local = this.#conn.localAddr as Deno.NetAddr;
        listener = Deno.listen({ hostname: local.hostname, port: 0 });
        const p = (listener.addr as Deno.NetAddr).port;
        const r = await this.command(
          `PORT ${local.hostname.replaceAll(".", ",")},${p >> 8},${p & 255}`,
        );
        if (r.code !== 200) throw new FtpError("reply", r.raw, r);
      }
      await io.beforeCommand?.();
      const pre = await this.command(cmd);
      if (pre.code >= 400) throw new FtpError("reply", pre.raw, pre);
      if (listener) {
        const l = listener;
        data = await timed(
          this.timeoutMs,
          this.signal,
          "waiting for the server's data connection",
          () => l.accept(),
          () => l.close(),
        );
      }
      const conn = data!;
      if (io.onData) {
        const chunk = new Uint8Array(65536);
        for (;;) {
          const n = await timed(
            this.timeoutMs,
            this.signal,
            "receiving data",
            () => conn.read(chunk),
            () => closeQuietly(conn),
          );
          if (n === null) break;
          await io.onData(chunk.subarray(0, n));
        }
      } else if (io.source) {
        for await (const bytes of io.source) {
          let off = 0;
          while (off < bytes.length) {
            off += await timed(
              this.timeoutMs,
              this.signal,
              "sending data",
              () => conn.write(bytes.subarray(off)),
              () => closeQuietly(conn),
            );
          }
        }
      }
      closeQuietly(conn);
      data = undefined;
      if (pre.code >= 200) return pre; // some servers answer 226/250 straight away
      const done = await this.readReply(`waiting for the end of ${cmd.split(" ")[0]}`);
      if (done.code >= 400) throw new FtpError("reply", done.raw, done);
      return done;
    } catch (err) {
      if (data) closeQuietly(data);
      if (err instanceof FtpError && err.kind === "reply") throw err;
      // A data-connection error or timeout leaves the control connection out of step: drop it.
      const msg = err instanceof Error ? err.message : String(err);
      this.close(`data transfer failed: ${msg}`);
      if (err instanceof FtpError) throw err;
      throw new FtpError(/^Timed out/.test(msg) ? "timeout" : "closed", msg);
    } finally {
      listener?.close();
    }
  }
}
