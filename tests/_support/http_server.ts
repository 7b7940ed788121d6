/**
 * @module
 * HTTP test servers for http_helper: one `Deno.serve` app on plain HTTP and on HTTPS with a
 * self-signed certificate made by `openssl req`, and a tiny forward proxy (absolute-form requests
 * and CONNECT tunnels) on a raw TCP listener. Runnable as a script for the Perl tests: prints one
 * JSON line with the addresses and runs until stdin closes.
 */

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
      const [method, target] = head.split(" ");
      if (method === "CONNECT") {
        const [host, port] = target.split(":");
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

/** Starts the HTTP, HTTPS, proxy and silent servers on 127.0.0.1. */
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
    async stop() {
      ac.abort();
      silent.close();
      for (const c of silentConns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await Promise.all([plain.finished, secure.finished, proxy.stop(), silentLoop]);
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
  }));
  await Deno.stdin.readable.pipeTo(new WritableStream()).catch(() => {});
  await s.stop();
}
