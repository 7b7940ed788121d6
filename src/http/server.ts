/**
 * @module
 * `startMonitorServer(d, listen)`: serves the monitoring app with `Deno.serve` on loopback TCP
 * (`PORT`), on an address given explicitly (`HOST:PORT`), or on a Unix socket (an absolute path).
 * The socket gets the daemon socket's mode and group, and is never reachable with looser ones.
 * Connections go through `serveHttp1` (capped, with deadlines), never `Deno.serve`, whose accept
 * loop ended the process when descriptors ran out.
 */

import type { DaemonContext } from "../daemon_context.ts";
import { StartupError } from "../errors.ts";
import { createMonitorApp } from "./monitor_app.ts";
import { type Http1Server, serveHttp1 } from "./http1.ts";

/** Where to listen, parsed from `--http` / `CPAN_BRIDGE_HTTP`. */
export type ListenAddress =
  | { readonly transport: "tcp"; readonly hostname: string; readonly port: number }
  | { readonly transport: "unix"; readonly path: string };

/** A running monitor listener. */
export interface MonitorServer {
  /** `http://HOST:PORT` (the real port when 0 was asked) or `unix:/path`. */
  readonly address: string;
  /** Stops listening and waits for open requests; removes the Unix socket file. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/**
 * Parses a listen address: `PORT` (on 127.0.0.1), `HOST:PORT`, `[IPv6]:PORT`, or `/abs/path`.
 *
 * @throws {StartupError} when the text is none of these
 */
export function parseListen(listen: string): ListenAddress {
  const s = listen.trim();
  const bad = (why: string) =>
    new StartupError(
      `Cannot use --http ${
        JSON.stringify(listen)
      } (CPAN_BRIDGE_HTTP): ${why}; expected PORT, HOST:PORT or an absolute Unix socket path`,
    );
  if (s.startsWith("/")) return { transport: "unix", path: s };
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):)?(\d{1,5})$/.exec(s);
  if (!m) throw bad(s.includes("/") ? "a socket path must be absolute" : "not an address");
  const port = Number(m[2]);
  if (port > 65535) throw bad(`port ${port} is above 65535`);
  const hostname = m[1] ? m[1].replace(/^\[|\]$/g, "") : "127.0.0.1";
  return { transport: "tcp", hostname, port };
}

/** Removes a socket file nobody listens on; refuses a live one or a non-socket. */
async function clearStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return;
  }
  if (!info.isSocket) {
    throw new StartupError(
      `Cannot listen on ${path}: it exists and is not a socket; remove it or choose another --http path`,
    );
  }
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    throw new StartupError(
      `Cannot listen on ${path}: another server answers there; stop it or choose another --http path`,
    );
  } catch (err) {
    if (err instanceof StartupError) throw err;
  }
  await Deno.remove(path);
}

/** The daemon socket's mode and group, which the HTTP socket copies. */
function daemonSocketAccess(d: DaemonContext): { mode: number; gid: number | null } {
  try {
    const st = Deno.lstatSync(d.socketPath);
    return { mode: (st.mode ?? d.config.socketMode) & 0o777, gid: st.gid };
  } catch {
    return { mode: d.config.socketMode & 0o777, gid: null };
  }
}

/**
 * Starts the monitoring listener of a daemon. Logs `HTTP monitor listening on <address>`.
 *
 * @param d the running daemon
 * @param listen `PORT`, `HOST:PORT` or an absolute Unix socket path
 * @returns the address and a `close()` function
 * @throws {StartupError} bad address, address in use, a live socket at the path
 * @example
 * ```ts ignore
 * const http = await startMonitorServer(daemon.context, "127.0.0.1:0");
 * await fetch(`${http.address}/metrics`);
 * await http.close();
 * ```
 */
export async function startMonitorServer(d: DaemonContext, listen: string): Promise<MonitorServer> {
  const where = parseListen(listen);
  const log = d.logs.daemon;
  const serve = (
    listener: Deno.Listener,
    app: { fetch: (r: Request) => Response | Promise<Response> },
  ) =>
    serveHttp1(listener, (req) => app.fetch(req), {
      maxConnections: Math.max(1, d.config.httpMaxConnections),
      headerTimeoutMs: d.config.httpHeaderTimeout * 1000,
      requestTimeoutMs: d.config.httpHeaderTimeout * 1000 + 30_000,
      log: (level, m) => log[level](m),
    });

  if (where.transport === "unix") {
    await clearStaleSocket(where.path);
    const { mode, gid } = daemonSocketAccess(d);
    const dir = where.path.slice(0, where.path.lastIndexOf("/")) || "/";
    const privateDir = await Deno.makeTempDir({ dir, prefix: ".cpan-bridge-http-" });
    const tmp = `${privateDir}/s`;
    let server: Http1Server | undefined;
    try {
      await Deno.chmod(privateDir, 0o700);
      const listener = Deno.listen({ transport: "unix", path: tmp });
      server = serve(listener, createMonitorApp(d));
      await Deno.chmod(tmp, mode);
      if (gid !== null) await Deno.chown(tmp, null, gid).catch(() => {});
      await Deno.rename(tmp, where.path);
    } catch (err) {
      await server?.close();
      throw new StartupError(
        `Cannot listen on ${where.path}: ${err instanceof Error ? err.message : err}`,
      );
    } finally {
      await Deno.remove(privateDir, { recursive: true }).catch(() => {});
    }
    const ino = (await Deno.lstat(where.path)).ino;
    const address = `unix:${where.path}`;
    log.info(`HTTP monitor listening on ${address}`);
    const running = server;
    return {
      address,
      close: async () => {
        await running.close();
        const st = await Deno.lstat(where.path).catch(() => undefined);
        if (st?.ino === ino) await Deno.remove(where.path).catch(() => {});
      },
    };
  }

  const loopback = LOOPBACK.has(where.hostname);
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: where.hostname, port: where.port });
  } catch (err) {
    throw new StartupError(
      `Cannot listen on ${where.hostname}:${where.port} for --http: ${
        err instanceof Error ? err.message : err
      }; choose another port`,
    );
  }
  const server = serve(listener, createMonitorApp(d, { loopbackHostOnly: loopback }));
  const a = listener.addr;
  const host = a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname;
  const address = `http://${host}:${a.port}`;
  log.info(`HTTP monitor listening on ${address}`);
  if (!loopback) {
    log.warn(
      `HTTP monitor on ${address} is reachable from other hosts and has no authentication; it shows counters, module names and log paths`,
    );
  }
  return { address, close: () => server.close() };
}
