/**
 * @module
 * One bounded HTTP exchange: a response over its byte bound is refused and the socket freed.
 */

import assert from "node:assert/strict";
import { startHttpServers } from "../../_support/http_server.ts";
import { exchange, ExchangeError } from "../../../helpers/http_helper/transport.ts";

Deno.test("exchange() refuses a response above its byte bound and frees the socket", async () => {
  const s = await startHttpServers();
  try {
    const port = Number(new URL(s.httpUrl).port);
    const input = {
      endpoint: { host: "127.0.0.1", port, tls: false, verify: true },
      head: new TextEncoder().encode(
        "GET /blob/100000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      ),
      body: undefined,
      isHead: false,
      timeoutMs: 5000,
      signal: new AbortController().signal,
    };
    const ok = await exchange(input);
    assert.equal(ok.body.length, 100_000);
    await assert.rejects(
      exchange({ ...input, maxResponseBytes: 50_000 }),
      (e: unknown) =>
        e instanceof ExchangeError &&
        e.message === "Response larger than 50000 bytes (cpan-bridge's limit)",
    );
  } finally {
    await s.stop();
  }
});
