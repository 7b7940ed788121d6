/**
 * @module
 * `serveHttp1(listener, handler, opts)`: a small HTTP/1.1 server over a listener the caller owns,
 * with the accept-loop discipline of the Unix socket (`server/accept_loop.ts`): a cap on open
 * connections (clients past it get a 503 and are closed at once), a deadline for the request
 * head and one for the whole exchange, bounded head and body sizes, one request per connection
 * (`Connection: close`), and no way for a failed accept (EMFILE) or a failed connection to end
 * the process. `Deno.serve` has none of these: idle TCP clients exhausted the descriptors and its
 * accept loop's rejection ended the daemon.
 */

/** Limits of {@linkcode serveHttp1}. */
export interface Http1Options {
  /** Connections served at once; the next ones get a 503 and are closed. */
  readonly maxConnections: number;
  /** How long a client has to send its request head (and body). */
  readonly headerTimeoutMs: number;
  /** How long a whole exchange may take, reply included. */
  readonly requestTimeoutMs: number;
  /** Largest request head in bytes (431 past it). */
  readonly maxHeaderBytes?: number;
  /** Largest request body in bytes (413 past it). */
  readonly maxBodyBytes?: number;
  /** Where failures go (never thrown). */
  readonly log: (level: "warn" | "error", message: string) => void;
}

/** A running server. */
export interface Http1Server {
  /** Connections open now. */
  readonly active: () => number;
  /** Resolves when the accept loop has ended. */
  readonly finished: Promise<void>;
  /** Closes the listener and every open connection. */
  close(): Promise<void>;
}

const BACKOFF_MS = 50;
const LOG_EVERY_MS = 5_000;
const enc = new TextEncoder();

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  421: "Misdirected Request",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

function plain(status: number, text: string): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** Finds `\r\n\r\n` in `buf[0..len)`; -1 when absent. */
function headEnd(buf: Uint8Array, len: number): number {
  for (let i = 3; i < len; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) {
      return i + 1;
    }
  }
  return -1;
}

interface Head {
  readonly method: string;
  readonly target: string;
  readonly headers: Headers;
}

/** Parses a request head; a string is the reason it is malformed. */
function parseHead(text: string): Head | string {
  const lines = text.split("\r\n");
  const m = /^([A-Z]{1,16}) (\S{1,8192}) HTTP\/1\.[01]$/.exec(lines[0] ?? "");
  if (!m) return "malformed request line";
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const c = line.indexOf(":");
    if (c <= 0) return "malformed header line";
    try {
      headers.append(line.slice(0, c).trim(), line.slice(c + 1).trim());
    } catch {
      return "invalid header";
    }
  }
  return { method: m[1]!, target: m[2]!, headers };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

async function writeResponse(conn: Deno.Conn, res: Response, head: boolean): Promise<void> {
  const body = head ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
  if (head) await res.body?.cancel();
  let out = `HTTP/1.1 ${res.status} ${res.statusText || REASONS[res.status] || "Status"}\r\n`;
  for (const [k, v] of res.headers) {
    if (k === "content-length" || k === "connection" || k === "transfer-encoding") continue;
    out += `${k}: ${v}\r\n`;
  }
  out += `content-length: ${body.length}\r\nconnection: close\r\ndate: ${
    new Date().toUTCString()
  }\r\n\r\n`;
  const h = enc.encode(out);
  const all = new Uint8Array(h.length + body.length);
  all.set(h);
  all.set(body, h.length);
  await writeAll(conn, all);
}

/**
 * Serves `handler` on `listener` until `close()`. Never throws and never rejects.
 *
 * @param listener a TCP or Unix listener (closed by `close()`)
 * @param handler answers one request
 * @param opts see {@linkcode Http1Options}
 */
export function serveHttp1(
  listener: Deno.Listener,
  handler: (req: Request) => Response | Promise<Response>,
  opts: Http1Options,
): Http1Server {
  const maxHead = opts.maxHeaderBytes ?? 16_384;
  const maxBody = opts.maxBodyBytes ?? 65_536;
  const open = new Set<Deno.Conn>();
  let closing = false;
  let lastLog = -Infinity;
  const closeConn = (c: Deno.Conn) => {
    open.delete(c);
    try {
      c.close();
    } catch { /* closed */ }
  };

  async function serveOne(conn: Deno.Conn): Promise<void> {
    let timedOut = false;
    let stage: "head" | "reply" = "head";
    const headTimer = setTimeout(() => {
      timedOut = true;
      closeConn(conn);
    }, opts.headerTimeoutMs);
    const allTimer = setTimeout(() => {
      timedOut = true;
      closeConn(conn);
    }, opts.requestTimeoutMs);
    try {
      const buf = new Uint8Array(maxHead + maxBody);
      let len = 0;
      let end = -1;
      while (end < 0) {
        if (len >= maxHead) {
          return await writeResponse(conn, plain(431, "Request head too large"), false);
        }
        const n = await conn.read(buf.subarray(len, maxHead));
        if (n === null) return;
        len += n;
        end = headEnd(buf, len);
      }
      const head = parseHead(new TextDecoder().decode(buf.subarray(0, end - 4)));
      if (typeof head === "string") {
        return await writeResponse(conn, plain(400, `Bad request: ${head}`), false);
      }
      if (head.headers.has("transfer-encoding")) {
        return await writeResponse(
          conn,
          plain(501, "Chunked request bodies are not accepted; send Content-Length"),
          false,
        );
      }
      const cl = Number(head.headers.get("content-length") ?? "0");
      if (!Number.isSafeInteger(cl) || cl < 0) {
        return await writeResponse(conn, plain(400, "Bad request: bad Content-Length"), false);
      }
      if (cl > maxBody) {
        return await writeResponse(conn, plain(413, "Request body too large"), false);
      }
      while (len - end < cl) {
        const n = await conn.read(buf.subarray(len, end + cl));
        if (n === null) return;
        len += n;
      }
      clearTimeout(headTimer);
      stage = "reply";
      const host = head.headers.get("host") || "localhost";
      let url: URL;
      try {
        // Origin form (`/path`), or absolute form (`http://host/path`, as proxies send it).
        const t = /^https?:\/\//i.test(head.target) ? new URL(head.target) : undefined;
        const path = t ? t.pathname + t.search : head.target.startsWith("/") ? head.target : "/";
        url = new URL(path, `http://${host}`);
      } catch {
        return await writeResponse(conn, plain(400, "Bad request: bad Host header"), false);
      }
      const method = head.method;
      const req = new Request(url, {
        method,
        headers: head.headers,
        body: cl > 0 && method !== "GET" && method !== "HEAD" ? buf.slice(end, end + cl) : null,
      });
      let res: Response;
      try {
        res = await handler(req);
      } catch (err) {
        opts.log("error", `HTTP monitor: ${err instanceof Error ? err.message : err}`);
        res = plain(500, "Internal error; see the daemon log");
      }
      await writeResponse(conn, res, method === "HEAD");
    } catch (err) {
      if (!timedOut && !closing && !(err instanceof Deno.errors.BadResource)) {
        const msg = err instanceof Error ? err.message : String(err);
        if (!/reset|broken pipe|not connected/i.test(msg)) {
          opts.log("warn", `HTTP monitor: connection failed during ${stage}: ${msg}`);
        }
      }
    } finally {
      clearTimeout(headTimer);
      clearTimeout(allTimer);
      closeConn(conn);
    }
  }

  /** Answers a client past the cap with a 503, without waiting on it. */
  function refuse(conn: Deno.Conn): void {
    const body =
      `Server busy: the HTTP monitor serves at most ${opts.maxConnections} connections at once\n`;
    const bytes = enc.encode(
      `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\nretry-after: 1\r\n\r\n${body}`,
    );
    // One write attempt: a socket buffer takes this at once; a client that does not read loses it.
    conn.write(bytes).catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch { /* closed */ }
    });
  }

  const finished = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (
          closing || err instanceof Deno.errors.BadResource ||
          err instanceof Deno.errors.Interrupted
        ) return;
        if (performance.now() - lastLog > LOG_EVERY_MS) {
          lastLog = performance.now();
          opts.log(
            "error",
            `HTTP monitor: error accepting connections: ${
              err instanceof Error ? err.message : err
            }; retrying (raise ulimit -n or lower CPAN_BRIDGE_HTTP_MAX_CONNECTIONS)`,
          );
        }
        await new Promise((r) => setTimeout(r, BACKOFF_MS));
        continue;
      }
      if (closing) {
        closeConn(conn);
        continue;
      }
      if (open.size >= opts.maxConnections) {
        refuse(conn);
        continue;
      }
      open.add(conn);
      void serveOne(conn);
    }
  })();

  return {
    active: () => open.size,
    finished,
    async close() {
      closing = true;
      try {
        listener.close();
      } catch { /* closed */ }
      for (const c of [...open]) closeConn(c);
      await finished;
    },
  };
}
