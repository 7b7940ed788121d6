/**
 * @module
 * `cpan-bridge proxy`: listens where the clients connect, forwards every connection byte for
 * byte to an upstream daemon (the Python one), returns its reply unchanged and appends the
 * exchange to a capture file. Both directions are piped as they arrive, so every framing the
 * clients use (half-close, JSON-then-newline one-liners) behaves as it does without the proxy.
 */

import { concatBytes } from "../../sdk/bytes.ts";
import { bindSocket, type BoundSocket } from "../../server/socket.ts";
import { type CaptureRecord, captureValue, CaptureWriter } from "./capture_file.ts";

/** Options of `startProxy`. */
export interface ProxyOptions {
  readonly upstream: string;
  readonly socket: string;
  readonly capture: string;
  /** Rotate the capture file past this size (default 64 MiB). */
  readonly captureMaxBytes?: number;
  /** Bytes kept per direction of one exchange (default 1 MiB); longer ones are marked truncated. */
  readonly recordMaxBytes?: number;
  /** Connections served at once (default 256); more wait in the listen backlog. */
  readonly maxConnections?: number;
  /** A connection's whole life, ms (default 15 min). */
  readonly deadlineMs?: number;
  readonly socketMode?: number;
  readonly log?: (message: string) => void;
}

/** A running proxy. */
export interface RunningProxy {
  readonly socket: string;
  readonly capture: CaptureWriter;
  close(): Promise<void>;
}

class Tap {
  readonly #chunks: Uint8Array[] = [];
  readonly #max: number;
  kept = 0;
  total = 0;
  constructor(max: number) {
    this.#max = max;
  }
  add(chunk: Uint8Array) {
    this.total += chunk.length;
    if (this.kept + chunk.length <= this.#max) {
      this.#chunks.push(chunk.slice());
      this.kept += chunk.length;
    }
  }
  get truncated() {
    return this.total > this.kept;
  }
  bytes(): Uint8Array {
    return concatBytes(this.#chunks);
  }
}

async function pipe(
  from: Deno.Conn,
  to: Deno.Conn,
  tap: Tap,
  onEnd: () => Promise<void> | void,
): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      const chunk = buf.subarray(0, n);
      tap.add(chunk);
      let off = 0;
      while (off < n) off += await to.write(chunk.subarray(off));
    }
  } catch { /* the other side went away: end this direction */ }
  await onEnd();
}

async function serve(client: Deno.UnixConn, o: Required<ProxyOptions>, cap: CaptureWriter) {
  const started = Date.now();
  const ts = new Date(started).toISOString();
  const req = new Tap(o.recordMaxBytes);
  const rep = new Tap(o.recordMaxBytes);
  let upstream: Deno.UnixConn;
  try {
    upstream = await Deno.connect({ transport: "unix", path: o.upstream });
  } catch (err) {
    o.log(`proxy: cannot reach the upstream daemon at ${o.upstream}: ${(err as Error).message}`);
    client.close();
    return;
  }
  const timer = setTimeout(() => {
    try {
      client.close();
    } catch { /* closed */ }
    try {
      upstream.close();
    } catch { /* closed */ }
  }, o.deadlineMs);
  try {
    const up = pipe(client, upstream, req, () => upstream.closeWrite().catch(() => {}));
    const down = pipe(upstream, client, rep, () => {
      try {
        client.close(); // the reply is complete: the client's request side ends with it
      } catch { /* closed */ }
    });
    await down;
    await up;
  } finally {
    clearTimeout(timer);
    try {
      upstream.close();
    } catch { /* closed */ }
  }
  const record: CaptureRecord = {
    ts,
    ms: Date.now() - started,
    request: captureValue(req.bytes()),
    reply: captureValue(rep.bytes()),
    request_bytes: req.total,
    reply_bytes: rep.total,
    truncated: req.truncated || rep.truncated,
  };
  await cap.append(record).catch((err) => o.log(`proxy: capture write failed: ${err.message}`));
}

/** Starts the proxy; it serves until `close()`. */
export async function startProxy(opts: ProxyOptions): Promise<RunningProxy> {
  const o: Required<ProxyOptions> = {
    captureMaxBytes: 64 * 1024 * 1024,
    recordMaxBytes: 1024 * 1024,
    maxConnections: 256,
    deadlineMs: 15 * 60_000,
    socketMode: 0o600,
    log: () => {},
    ...opts,
  };
  const bound: BoundSocket = await bindSocket(o.socket, o.socketMode, "");
  const cap = new CaptureWriter(o.capture, o.captureMaxBytes);
  const active = new Set<Promise<void>>();
  let slotFreed: (() => void) | undefined;
  const loop = (async () => {
    for (;;) {
      while (active.size >= o.maxConnections) {
        await new Promise<void>((r) => slotFreed = r);
      }
      let conn: Deno.UnixConn;
      try {
        conn = await bound.listener.accept();
      } catch (err) {
        if (err instanceof Deno.errors.BadResource) return; // closed
        o.log(`proxy: accept failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const p = serve(conn, o, cap).finally(() => {
        active.delete(p);
        slotFreed?.();
      });
      active.add(p);
    }
  })();
  return {
    socket: o.socket,
    capture: cap,
    async close() {
      bound.remove();
      bound.listener.close();
      await loop;
      await Promise.allSettled([...active]);
      await cap.close();
    },
  };
}
