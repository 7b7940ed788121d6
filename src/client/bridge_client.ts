/**
 * @module
 * A minimal client of the wire protocol, as `CPANBridge.pm` speaks it: connect, write the
 * request, half-close, read to EOF, parse. Used by the CLI's client commands and the tests.
 */

/** The daemon could not be reached or answered something that is not JSON. */
export class UnreachableError extends Error {
  override name = "UnreachableError";
}

/**
 * Sends one request and returns the parsed reply envelope.
 *
 * @throws {UnreachableError} no daemon at `socket`, timeout, or an unreadable reply
 */
export async function callDaemon(
  socket: string,
  request: Record<string, unknown>,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  let conn: Deno.UnixConn | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn?.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
    const body = new TextEncoder().encode(JSON.stringify(request));
    let off = 0;
    while (off < body.length) off += await conn.write(body.subarray(off));
    await conn.closeWrite();
    const text = await new Response(conn.readable).text();
    conn = undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new UnreachableError(
        `Cannot read the reply from ${socket}: not JSON (${text.slice(0, 80)})`,
      );
    }
  } catch (err) {
    if (err instanceof UnreachableError) throw err;
    if (timedOut) {
      throw new UnreachableError(
        `Cannot reach the daemon at ${socket}: no reply within ${timeoutMs / 1000} s`,
      );
    }
    throw new UnreachableError(
      `Cannot reach the daemon at ${socket}: ${err instanceof Error ? err.message : err}`,
    );
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed */ }
  }
}

/** Calls `module.function` the way a v2.00 client does (with request_id and client_version). */
export function callFunction(
  socket: string,
  module: string,
  fn: string,
  params: unknown = {},
  timeoutMs?: number,
): Promise<Record<string, unknown>> {
  return callDaemon(socket, {
    module,
    function: fn,
    params,
    timestamp: Date.now() / 1000,
    request_id: `${Math.floor(Date.now() / 1000)}_${Deno.pid}_${Math.floor(Math.random() * 1000)}`,
    client_version: "2.00",
  }, timeoutMs);
}
