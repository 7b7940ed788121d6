/**
 * @module
 * An SMTP sink for the mail helpers' tests: npm `smtp-server` on a loopback port that records, per
 * message, the envelope, the raw DATA bytes exactly as the client sent them (dot-stuffing and
 * terminator included) and the message as stored. Failure modes are chosen by the message
 * itself: a recipient containing "reject" gets 550, a message containing "X-Sink: stall" never gets
 * its final reply (a server that stops mid-transfer). Optional AUTH users. Also a script for the
 * Perl tests: `deno run -A tests/_support/smtp_sink.ts <dir>` writes `<n>.raw`, `<n>.eml` and
 * `<n>.json` per message into `<dir>`, prints one JSON line with the ports and runs until stdin
 * closes.
 */

import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { closedPort, startSilentServer } from "./net.ts";
import { waitFor } from "./wait.ts";

/** One received message. */
export interface SinkMessage {
  readonly from: string;
  readonly to: string[];
  /** Bytes after "DATA\r\n" up to and including "\r\n.\r\n", as sent (dot-stuffed). */
  readonly raw: Uint8Array;
  /** The message as the server stored it (unstuffed, no terminator). */
  readonly message: Uint8Array;
  /** The EHLO/HELO name the client gave. */
  readonly hello: string;
  /** The AUTH user, if any. */
  readonly user?: string | undefined;
}

/** A running sink. */
export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  readonly messages: SinkMessage[];
  /** Polls until `n` messages arrived, or throws after `deadlineMs`. */
  waitFor(n: number, deadlineMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const indexOf = (hay: Uint8Array, needle: string, from = 0): number =>
  Buffer.from(hay).indexOf(needle, from);

/** Starts the sink on 127.0.0.1 (port 0 = any free port). */
export async function startSmtpSink(
  opts: { dir?: string; users?: Record<string, string>; port?: number } = {},
): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  // Client bytes per connection, keyed by the client's port; consumed message by message.
  const wire = new Map<number, { buf: Uint8Array; pos: number }>();
  const sockets = new Set<Socket>();
  const server = new SMTPServer({
    secure: false,
    name: "sink.test",
    banner: "cpan-bridge test sink",
    disabledCommands: opts.users ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (opts.users && opts.users[auth.username ?? ""] === auth.password) {
        return cb(null, { user: auth.username });
      }
      const err = Object.assign(new Error("Invalid username or password"), { responseCode: 535 });
      cb(err);
    },
    onRcptTo(addr, _session, cb) {
      if (addr.address.includes("reject")) {
        return cb(
          Object.assign(new Error(`<${addr.address}>: Recipient address rejected`), {
            responseCode: 550,
          }),
        );
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", async () => {
        const message = new Uint8Array(Buffer.concat(chunks));
        const w = wire.get(session.remotePort);
        let raw = new Uint8Array();
        if (w) {
          const start = indexOf(w.buf, "DATA\r\n", w.pos);
          const end = indexOf(w.buf, "\r\n.\r\n", start);
          if (start >= 0 && end >= 0) {
            raw = w.buf.slice(start + 6, end + 5);
            w.pos = end + 5;
          }
        }
        const m: SinkMessage = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          message,
          hello: session.hostNameAppearsAs,
          user: session.user as string | undefined,
        };
        if (Buffer.from(message).includes("X-Sink: stall")) return; // never answer
        if (opts.dir) {
          const n = messages.length + 1;
          await Deno.writeFile(`${opts.dir}/${n}.raw`, m.raw);
          await Deno.writeFile(`${opts.dir}/${n}.eml`, m.message);
          await Deno.writeTextFile(
            `${opts.dir}/${n}.json.tmp`,
            JSON.stringify({ from: m.from, to: m.to, hello: m.hello, user: m.user ?? null }),
          );
          await Deno.rename(`${opts.dir}/${n}.json.tmp`, `${opts.dir}/${n}.json`);
        }
        messages.push(m);
        cb(null, "Queued");
      });
    },
  });
  const net =
    (server as unknown as { server: { on(e: string, f: (s: Socket) => void): void } }).server;
  net.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const entry = { buf: new Uint8Array(), pos: 0 };
    wire.set(socket.remotePort ?? 0, entry);
    socket.on("data", (c: Buffer) => {
      const next = new Uint8Array(entry.buf.length + c.length);
      next.set(entry.buf);
      next.set(c, entry.buf.length);
      entry.buf = next;
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.on("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      resolve(
        (server as unknown as { server: { address(): { port: number } } }).server.address().port,
      );
    });
  });
  return {
    host: "127.0.0.1",
    port,
    messages,
    async waitFor(n, deadlineMs = 10_000) {
      await waitFor(() => messages.length >= n, { deadlineMs, what: `${n} messages at the sink` });
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A silent SMTP server (accepts, never greets) and a port that refuses connections. */
export { closedPort, startSilentServer };

if (import.meta.main) {
  const dir = Deno.args[0];
  if (!dir) throw new Error("usage: smtp_sink.ts <dir>");
  const sink = await startSmtpSink({ dir, users: { mailer: "mail-pw" } });
  const silent = startSilentServer();
  // deno-lint-ignore no-console
  console.log(
    JSON.stringify({
      host: sink.host,
      port: sink.port,
      silent_port: silent.port,
      closed_port: closedPort(),
    }),
  );
  await Deno.stdin.readable.pipeTo(new WritableStream()).catch(() => {});
  await Promise.all([sink.stop(), silent.stop()]);
}
