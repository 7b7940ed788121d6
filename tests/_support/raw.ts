/**
 * @module
 * Raw-socket clients for wire tests: send exact bytes, half-close (or not), read to EOF.
 */

/** Sends bytes, half-closes unless told not to, and returns the whole reply as text. */
export async function rawCall(
  socket: string,
  body: string | Uint8Array,
  opts: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  const timer = setTimeout(() => conn.close(), opts.timeoutMs ?? 30_000);
  try {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    if (opts.halfClose !== false) await conn.closeWrite();
    return await new Response(conn.readable).text();
  } finally {
    clearTimeout(timer);
  }
}

/** Sends a request object and parses the reply. */
export async function rawJson(socket: string, req: unknown): Promise<Record<string, unknown>> {
  return JSON.parse(await rawCall(socket, JSON.stringify(req)));
}

/** Milliseconds one ping takes. */
export async function timedPing(socket: string): Promise<number> {
  const t0 = performance.now();
  const r = await rawJson(socket, { module: "test", function: "ping", params: {} });
  if (r.success !== true) throw new Error(`ping failed: ${JSON.stringify(r)}`);
  return performance.now() - t0;
}
