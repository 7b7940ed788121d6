/**
 * @module
 * HTTP test servers for http_helper: one `Deno.serve` app on plain HTTP and on HTTPS with a
 * self-signed certificate made by `openssl req`, and a tiny forward proxy (absolute-form requests
 * and CONNECT tunnels) on a raw TCP listener. Runnable as a script for the Perl tests: prints one
 * JSON line with the addresses and runs until stdin closes. Two raw "capture" listeners (one on
 * an ephemeral port, one on a port the Fetch standard bans) answer every request with the exact
 * bytes they received, so tests can compare what LWP and http_helper put on the wire.
 */

import zlib from "node:zlib";

/** Ports the Fetch standard calls "bad"; the capture server takes the first one free. */
const BAD_PORTS = [6666, 6667, 6668, 6669, 6697, 10080, 6000, 4190, 5060, 6665];

/** `n` deterministic pseudo-random bytes (an LCG), so both sides can check every byte. */
export function blob(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const hexBytes = (hex: string) =>
  Uint8Array.from(hex.match(/[0-9a-f]{2}/gi) ?? [], (h) => parseInt(h, 16));

/**
 * `/typed?ct=…&ce=gzip|deflate|deflate-raw&hex=…`: those bytes, encoded, with that type;
 * `ce_header=…` sends that Content-Encoding over the bytes as they are.
 */
function typed(q: URLSearchParams): Response {
  let body: Uint8Array = hexBytes(q.get("hex") ?? "");
  const ce = q.get("ce");
  if (ce === "gzip") body = zlib.gzipSync(body);
  else if (ce === "deflate") body = zlib.deflateSync(body);
  else if (ce === "deflate-raw") body = zlib.deflateRawSync(body);
  const headers = new Headers();
  if (q.has("ct")) headers.set("content-type", q.get("ct")!);
  if (ce) headers.set("content-encoding", ce === "deflate-raw" ? "deflate" : ce);
  // A Content-Encoding header over bytes that are NOT so encoded (corrupt or unsupported).
  if (q.has("ce_header")) headers.set("content-encoding", q.get("ce_header")!);
  return new Response(body as Uint8Array<ArrayBuffer>, { headers });
}

/** Routes shared by the HTTP and HTTPS servers. */
async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const p = url.pathname;
  const json = (v: unknown, status = 200) =>
    new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
  let m: RegExpExecArray | null;
  if (p === "/echo" || p === "/get" || p === "/post") {
    const body = await req.text();
    return json({
      method: req.method,
      path: p,
      query: url.search,
      headers: Object.fromEntries(req.headers),
      body,
    });
  }
  if ((m = /^\/status\/(\d+)$/.exec(p))) {
    return new Response(`status ${m[1]} body`, { status: Number(m[1]) });
  }
  if ((m = /^\/redirect\/(\d+)$/.exec(p))) {
    const n = Number(m[1]);
    return new Response(null, {
      status: 302,
      headers: { location: n > 1 ? `/redirect/${n - 1}` : "/echo" },
    });
  }
  if ((m = /^\/redirect-code\/(\d+)$/.exec(p))) {
    return new Response(null, { status: Number(m[1]), headers: { location: "/echo" } });
  }
  if ((m = /^\/delay\/(\d+)$/.exec(p))) {
    const ms = Number(m[1]);
    await new Promise((r) => setTimeout(r, ms));
    return new Response("late");
  }
  if (p === "/bytes") {
    return new Response(Uint8Array.from({ length: 256 }, (_, i) => i), {
      headers: { "content-type": "application/octet-stream" },
    });
  }
  if ((m = /^\/blob\/(\d+)$/.exec(p))) {
    return new Response(blob(Math.min(Number(m[1]), 64 << 20)) as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": "application/octet-stream" },
    });
  }
  if (p === "/typed") return typed(url.searchParams);
  if (p === "/chunked") {
    // A streamed body: Deno.serve sends it with Transfer-Encoding: chunked.
    const data = blob(100_000);
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i >= data.length) return c.close();
        c.enqueue(data.slice(i, i + 9_999));
        i += 9_999;
      },
    });
    return new Response(stream, { headers: { "content-type": "application/octet-stream" } });
  }
  if (p === "/latin1") {
    return new Response(Uint8Array.of(0x63, 0x61, 0x66, 0xe9), {
      headers: { "content-type": "text/plain; charset=ISO-8859-1" },
    });
  }
  if (p === "/cookie") {
    const h = new Headers({ "content-type": "text/plain" });
    h.append("set-cookie", "a=1; Path=/");
    h.append("set-cookie", "session=xyz; Path=/");
    return new Response(`cookie header: ${req.headers.get("cookie") ?? ""}`, { headers: h });
  }
  return new Response("not here", { status: 404 });
}

/** The running test servers. */
export interface HttpServers {
  readonly httpUrl: string;
  readonly httpsUrl: string;
  readonly proxyUrl: string;
  /** A port with nothing listening. */
  readonly closedPort: number;
  /** A TCP listener that accepts and never answers. */
  readonly silentUrl: string;
  /** Answers every request with the exact bytes received (`200 Captured`, octet-stream). */
  readonly captureUrl: string;
  /** The same on a Fetch-standard "bad" port (6666, 6667, …, 10080), if one was free. */
  readonly badPortUrl: string | undefined;
  stop(): Promise<void>;
}

async function makeCert(dir: string): Promise<{ cert: string; key: string }> {
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`openssl req failed: ${new TextDecoder().decode(out.stderr)}`);
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}

/** A forward proxy: CONNECT tunnels, and "proxied <absolute url>" answers for plain requests. */
function startProxy(): { port: number; stop(): Promise<void> } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const serve = async (c: Deno.Conn) => {
    open.add(c);
    try {
      let head = "";
      const buf = new Uint8Array(8192);
      while (!head.includes("\r\n\r\n")) {
        const n = await c.read(buf);
        if (n === null) return;
        head += new TextDecoder("latin1").decode(buf.subarray(0, n));
      }
      const [method, target = ""] = head.split(" ");
      if (method === "CONNECT") {
        const [host = "", port] = target.split(":");
        // "*.invalid" names exist only through the proxy, so tests can tell tunnelled requests apart.
        const up = await Deno.connect({
          hostname: host.endsWith(".invalid") ? "127.0.0.1" : host,
          port: Number(port),
        });
        open.add(up);
        await c.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
        await Promise.all([
          c.readable.pipeTo(up.writable).catch(() => {}),
          up.readable.pipeTo(c.writable).catch(() => {}),
        ]);
        return;
      }
      const body = `proxied ${method} ${target}`;
      await c.write(new TextEncoder().encode(
        `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      ));
    } catch {
      /* closed */
    } finally {
      open.delete(c);
      try {
        c.close();
      } catch { /* closed */ }
    }
  };
  const loop = (async () => {
    try {
      for await (const c of l) tasks.push(serve(c));
    } catch { /* closed */ }
  })();
  return {
    port: (l.addr as Deno.NetAddr).port,
    async stop() {
      l.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
      await Promise.all(tasks);
    },
  };
}

/** Chunked framing of `body` in pieces of `size` bytes. */
function chunked(body: Uint8Array, size: number): Uint8Array {
  const parts: number[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push(...enc.encode(`${piece.length.toString(16)}\r\n`), ...piece, 13, 10);
  }
  parts.push(...enc.encode("0\r\n\r\n"));
  return Uint8Array.from(parts);
}

/**
 * What a capture listener answers instead of the captured bytes, for paths Deno.serve cannot
 * produce: `/raw/te-gzip` and `/raw/te-deflate` (a transfer coding under `chunked`, which
 * LWP's `TE` header invites), `/raw/reason` (a reason phrase of the server's own), and the
 * `RAW_REPLIES` (sent as latin1 bytes).
 */
function cannedResponse(start: string): Uint8Array | undefined {
  const path = /^[A-Z]+ (\S+)/.exec(start)?.[1] ?? "";
  const text = new TextEncoder().encode(
    "caf\u00e9 \u65e5\u672c over a transfer coding\n".repeat(50),
  );
  const head = (status: string, extra: string) =>
    new TextEncoder().encode(
      `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\n${extra}Connection: close\r\n\r\n`,
    );
  const join = (a: Uint8Array, b: Uint8Array) => {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  if (path === "/raw/te-gzip") {
    return join(
      head("200 OK", "Transfer-Encoding: gzip, chunked\r\n"),
      chunked(zlib.gzipSync(text), 100),
    );
  }
  if (path === "/raw/te-deflate") {
    return join(
      head("200 OK", "Transfer-Encoding: deflate, chunked\r\n"),
      chunked(zlib.deflateSync(text), 7),
    );
  }
  const plain = RAW_REPLIES[path];
  if (plain !== undefined) return Uint8Array.from(plain, (ch) => ch.charCodeAt(0));
  if (path === "/raw/reason") {
    return join(head("203 Fine By Me", "Content-Length: 2\r\n"), new TextEncoder().encode("ok"));
  }
  return undefined;
}

/** Malformed or unusual replies Net::HTTP copes with, by `/raw/…` path. */
const RAW_REPLIES: Record<string, string> = {
  "/raw/http09": "hello world\nno status line at all\n",
  "/raw/no-phrase": "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
  "/raw/http10-eof": "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody to the end",
  "/raw/short": "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
  "/raw/empty": "",
  "/raw/unfinished-head": "HTTP/1.1 200 OK\r\nX: y",
  "/raw/lf-only":
    "HTTP/1.1 201 Made It\nContent-Type: text/plain; charset=iso-8859-1\nContent-Length: 4\n\ncaf\u00e9",
  "/raw/extra-spaces": "HTTP/1.1   404   Not  Here  \r\nContent-Length: 0\r\n\r\n",
};

/** The largest request a capture server keeps. */
const MAX_CAPTURE = 64 << 20;

/** Reads one request (head + Content-Length body) and answers with its exact bytes. */
async function capture(c: Deno.Conn): Promise<void> {
  const parts: Uint8Array[] = [];
  let total = 0, need = -1;
  const buf = new Uint8Array(65536);
  const all = () => {
    const out = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  };
  while (total < MAX_CAPTURE && (need < 0 || total < need)) {
    const n = await c.read(buf);
    if (n === null) break;
    parts.push(buf.slice(0, n));
    total += n;
    if (need < 0) {
      const text = new TextDecoder("latin1").decode(all());
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const len = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
        need = end + 4 + Number(len ?? 0);
      }
    }
  }
  const got = all();
  const canned = cannedResponse(new TextDecoder("latin1").decode(got.subarray(0, 200)));
  if (canned) {
    for (let off = 0; off < canned.length;) off += await c.write(canned.subarray(off));
    return;
  }
  const head = new TextEncoder().encode(
    `HTTP/1.1 200 Captured\r\nContent-Type: application/octet-stream\r\n` +
      `Content-Length: ${got.length}\r\nConnection: close\r\n\r\n`,
  );
  await c.write(head);
  for (let off = 0; off < got.length;) off += await c.write(got.subarray(off));
}

/** A raw listener answering every connection with `capture`. */
function startCapture(port: number): { port: number; stop(): Promise<void> } {
  const l = Deno.listen({ hostname: "127.0.0.1", port });
  const open = new Set<Deno.Conn>();
  const tasks: Promise<void>[] = [];
  const loop = (async () => {
    try {
      for await (const c of l) {
        open.add(c);
        tasks.push(
          capture(c).catch(() => {}).finally(() => {
            open.delete(c);
            try {
              c.close();
            } catch { /* closed */ }
          }),
        );
      }
    } catch { /* closed */ }
  })();
  return {
    port: (l.addr as Deno.NetAddr).port,
    async stop() {
      l.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
      await Promise.all(tasks);
    },
  };
}

/** A capture server on the first free Fetch-"bad" port, or undefined when all are taken. */
function startBadPortCapture(): ReturnType<typeof startCapture> | undefined {
  for (const port of BAD_PORTS) {
    try {
      return startCapture(port);
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    }
  }
  return undefined;
}

/** Starts the HTTP, HTTPS, proxy, silent and capture servers on 127.0.0.1. */
export async function startHttpServers(): Promise<HttpServers> {
  const dir = await Deno.makeTempDir({ prefix: "cb_http_" });
  const { cert, key } = await makeCert(dir);
  const ac = new AbortController();
  const quiet = { signal: ac.signal, onListen() {} };
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, ...quiet }, handle);
  const secure = Deno.serve({ hostname: "127.0.0.1", port: 0, cert, key, ...quiet }, handle);
  const proxy = startProxy();
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const cap = startCapture(0);
  const bad = startBadPortCapture();
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const silentConns: Deno.Conn[] = [];
  const silentLoop = (async () => {
    try {
      for await (const c of silent) silentConns.push(c);
    } catch { /* closed */ }
  })();
  return {
    httpUrl: `http://127.0.0.1:${plain.addr.port}`,
    httpsUrl: `https://127.0.0.1:${secure.addr.port}`,
    proxyUrl: `http://127.0.0.1:${proxy.port}`,
    closedPort,
    silentUrl: `http://127.0.0.1:${(silent.addr as Deno.NetAddr).port}`,
    captureUrl: `http://127.0.0.1:${cap.port}`,
    badPortUrl: bad ? `http://127.0.0.1:${bad.port}` : undefined,
    async stop() {
      ac.abort();
      silent.close();
      for (const c of silentConns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.all([
        plain.finished,
        secure.finished,
        proxy.stop(),
        silentLoop,
        cap.stop(),
        bad?.stop(),
      ]);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

if (import.meta.main) {
  const s = await startHttpServers();
  // deno-lint-ignore no-console
  console.log(JSON.stringify({
    http: s.httpUrl,
    https: s.httpsUrl,
    proxy: s.proxyUrl,
    closed_port: s.closedPort,
    silent: s.silentUrl,
    capture: s.captureUrl,
    bad_port: s.badPortUrl ?? null,
  }));
  await Deno.stdin.readable.pipeTo(new WritableStream()).catch(() => {});
  await s.stop();
}
