/**
 * @module
 * One client connection (contract §2.3, §6.3): read one request, dispatch it, write every byte
 * of the reply, close. Read failures (oversize, silence, the total request deadline, nothing
 * sent) get the contract's error reply.
 *
 * Over `CPAN_BRIDGE_MAX_CONNECTIONS` (no serving slot free at accept) a connection is still read
 * with the configured limits. A control request (`test.*`, `system.*`, recognised whatever the
 * order of its keys) is answered at once; any other waits up to `CPAN_BRIDGE_CONNECTION_WAIT` for
 * a slot and is then served, as clients of the Python daemon waited in the listen backlog, and
 * only past that wait gets "Too many connections".
 *
 * A helper call that the throttle makes wait gives its slot back meanwhile, so throttled calls
 * never hold the slots other clients' calls need.
 *
 * Replies: larger than `CPAN_BRIDGE_MAX_REPLY_SIZE` they are replaced by a clear error; a client
 * that has not read its whole reply within `CPAN_BRIDGE_WRITE_TIMEOUT` is disconnected, which frees
 * the reply at once instead of at the 300 s stale sweep.
 */

import type { DaemonContext } from "../daemon_context.ts";
import type { TrackedConnection } from "../ops/connections.ts";
import type { CallerScope } from "../ops/throttle.ts";
import { isWireError, tooManyConnections, WireError } from "../errors.ts";
import { dispatch, failed } from "../protocol/dispatch.ts";
import { type Reply, replyParts } from "../protocol/envelope.ts";
import { claimedPid, readRequest, WriteDeadline, writeReply } from "../wire/framing.ts";

/** Control requests larger than this are not looked at before a slot is free. */
const CONTROL_PARSE_MAX = 1024 * 1024;

/** A request for a built-in (`test.*`, `system.*`), as recognised before dispatch. */
export interface ControlRequest {
  readonly module: "test" | "system";
  readonly function: unknown;
}

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a;
const MODULE = [0x6d, 0x6f, 0x64, 0x75, 0x6c, 0x65]; // module

/** `bytes[from, to)` equals `word`. */
function equalsAt(bytes: Uint8Array, from: number, to: number, word: readonly number[]): boolean {
  if (to - from !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (bytes[from + k] !== word[k]) return false;
  return true;
}

/** Index of the quote that ends the string starting at `start` (native search, skipping escapes). */
function stringEnd(bytes: Uint8Array, start: number): number {
  for (let j = start;;) {
    const q = bytes.indexOf(QUOTE, j);
    if (q < 0) return bytes.length;
    let backslashes = 0;
    for (let k = q - 1; k >= start && bytes[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q;
    j = q + 1;
  }
}

/**
 * What a one-pass look at the bytes says about the top-level `module` (the last one, as
 * JSON.parse keeps it): "maybe" when it may be `test`/`system` (or the look cannot tell, e.g. an
 * escape in a key or in the value), "no" when a valid JSON object cannot have a built-in module.
 * It parses nothing, so a large helper request over the connection limit costs no second parse.
 */
function mayBeControl(bytes: Uint8Array): "maybe" | "no" {
  let i = 0;
  const n = bytes.length;
  while (
    i < n && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  ) {
    i++;
  }
  if (bytes[i] !== 0x7b) return "no"; // not an object: JSON.parse gives no control request
  let depth = 0, module: "none" | "builtin" | "other" = "none";
  for (; i < n; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) {
      const start = i + 1;
      i = stringEnd(bytes, start);
      if (depth !== 1) continue;
      const escaped = bytes.subarray(start, i).includes(BACKSLASH);
      // A top-level string followed by ':' is a key.
      let j = i + 1;
      while (
        j < n && (bytes[j] === 0x20 || bytes[j] === 0x0a || bytes[j] === 0x0d || bytes[j] === 0x09)
      ) j++;
      if (bytes[j] !== COLON) continue;
      if (escaped) return "maybe"; // a key with an escape may spell "module"
      if (!equalsAt(bytes, start, i, MODULE)) continue;
      j++;
      while (
        j < n && (bytes[j] === 0x20 || bytes[j] === 0x0a || bytes[j] === 0x0d || bytes[j] === 0x09)
      ) j++;
      if (bytes[j] !== QUOTE) {
        module = "other"; // not a string: not a built-in
        continue;
      }
      const k = stringEnd(bytes, j + 1);
      if (bytes.subarray(j + 1, k).includes(BACKSLASH)) return "maybe";
      const len = k - j - 1;
      const first = bytes[j + 1];
      module = (len === 4 && first === 0x74) || (len === 6 && first === 0x73) ? "builtin" : "other";
    } else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) depth--;
  }
  return module === "builtin" ? "maybe" : "no";
}

/**
 * The module and function when the bytes are a JSON object whose `module` is `test` or `system`
 * (any key order, any whitespace), else undefined. Only requests up to 1 MiB are looked at, and
 * only those a one-pass byte scan cannot rule out are parsed (control requests are small).
 */
export function controlRequest(bytes: Uint8Array): ControlRequest | undefined {
  if (bytes.length > CONTROL_PARSE_MAX) return undefined;
  if (mayBeControl(bytes) === "no") return undefined;
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
  const { module, function: fn } = v as Record<string, unknown>;
  return module === "test" || module === "system" ? { module, function: fn } : undefined;
}

/** True for a liveness ping (`test.ping`), whatever the order of its keys. */
export function isPing(bytes: Uint8Array): boolean {
  const c = controlRequest(bytes);
  return c?.module === "test" && c.function === "ping";
}

/** The reply is larger than `CPAN_BRIDGE_MAX_REPLY_SIZE`. */
export const replyTooLarge = (n: number, cap: number): WireError =>
  new WireError(
    `Reply too large: ${n} bytes (max: ${cap}, CPAN_BRIDGE_MAX_REPLY_SIZE)`,
    "ValueError",
    { kind: "reply_too_large" },
  );

/**
 * Who is calling, for the throttle (ops/throttle.ts): the fairness key is found, and the slot
 * callback made, only for calls that reach the throttle (helper calls); a ping costs one object.
 * A call throttled to wait gives its slot back: waiting calls never starve the slots.
 */
class ConnectionScope implements CallerScope {
  readonly #d: DaemonContext;
  readonly #tracked: TrackedConnection;
  readonly #bytes: Uint8Array;
  #client: string | undefined;

  constructor(d: DaemonContext, tracked: TrackedConnection, bytes: Uint8Array) {
    this.#d = d;
    this.#tracked = tracked;
    this.#bytes = bytes;
  }

  get client(): string {
    if (this.#client === undefined) {
      const pid = claimedPid(this.#bytes);
      this.#client = pid === undefined ? `conn:${this.#tracked.id}` : `pid:${pid}`;
    }
    return this.#client;
  }

  get onWait(): () => void {
    return () => this.#d.connections.yieldSlot(this.#tracked);
  }
}

/** Serves one accepted connection to completion. Never throws. */
export async function serveConnection(d: DaemonContext, conn: Deno.Conn): Promise<void> {
  const now = d.clock.now();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const tracked = d.connections.open(now, close);
  d.stats.connectionsTotal++;
  d.stats.peakConnections = Math.max(d.stats.peakConnections, d.connections.size);
  // The peer of security events: the tracked connection itself (its id is built only if asked).
  const peer = tracked;
  if (d.config.debug > 0) d.logs.daemon.debug(`Handling client connection ${tracked.id}`);
  const over = !d.connections.trySlot(tracked, d.config.maxConnections);
  d.inFlight++;
  let reply: Reply;
  const t0 = performance.now();
  try {
    const bytes = await readRequest(conn, {
      maxBytes: d.config.maxRequestSize,
      idleMs: d.config.readTimeout * 1000,
      deadlineMs: d.config.requestDeadline * 1000,
      onBytes: (n) => {
        tracked.lastActivityMs = d.clock.now();
        tracked.bytesReceived += n;
      },
    });
    tracked.requests = 1;
    tracked.busy = true;
    if (
      over && controlRequest(bytes) === undefined &&
      !await d.connections.waitForSlot(
        tracked,
        d.config.maxConnections,
        d.config.connectionWait * 1000,
      )
    ) {
      d.stats.connectionsRejected++;
      d.security.record("connection_limit", "warning", peer, {}, {
        limit: d.config.maxConnections,
        open: d.connections.size,
        waited_seconds: d.config.connectionWait,
      });
      d.stats.securityEvents++;
      reply = failed(d, tooManyConnections(d.config.maxConnections), "connection.refused", t0);
    } else {
      reply = await dispatch(d, bytes, peer, new ConnectionScope(d, tracked, bytes));
    }
  } catch (err) {
    if (err instanceof WireError) {
      if (err.kind === "too_large") {
        d.stats.requestsRejected++;
        d.security.record("oversized_request", "warning", peer, {}, { error: err.message });
        d.stats.securityEvents++;
      } else if (err.kind === "timeout_no_request") {
        d.security.record("request_deadline", "warning", peer, {}, {
          error: err.message,
          deadline_seconds: d.config.requestDeadline,
          bytes_received: tracked.bytesReceived,
        });
        d.stats.securityEvents++;
      } else if (err.kind === "timeout") {
        d.security.record("idle_timeout", "warning", peer, {}, {
          error: err.message,
          idle_seconds: d.config.readTimeout,
        });
        d.stats.securityEvents++;
      }
    }
    reply = failed(d, err, "request.read", t0);
  }
  let parts = replyParts(reply, d.config.encoding);
  let size = 0;
  for (const p of parts) size += p.length;
  if (size > d.config.maxReplySize) {
    parts = replyParts(
      failed(d, replyTooLarge(size, d.config.maxReplySize), "reply.write", t0),
      d.config.encoding,
    );
  }
  reply = "";
  const deadline = new WriteDeadline(d.config.writeTimeout * 1000);
  try {
    tracked.bytesSent += await writeReply(conn, parts, deadline);
  } catch (err) {
    if (isWireError(err, "write_timeout")) {
      d.security.record("write_timeout", "warning", peer, {}, {
        error: err.message,
        write_timeout_seconds: d.config.writeTimeout,
      });
      d.stats.securityEvents++;
      d.logs.daemon.warn(`Closed connection ${tracked.id}: ${err.message}`);
    } else {
      // The client went away before reading its reply: nothing to deliver it to.
      d.logs.daemon.debug(`Error sending response: ${err instanceof Error ? err.message : err}`);
    }
  } finally {
    deadline.clear();
    parts = [];
    d.inFlight--;
    d.connections.remove(tracked);
    close();
    if (d.config.debug > 0) {
      d.logs.daemon.debug(`Connection ${tracked.id} cleaned up after request completion`);
    }
  }
}
