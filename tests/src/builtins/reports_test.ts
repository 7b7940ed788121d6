/**
 * Tests of the health report's socket check (src/builtins/reports.ts): one look at the socket file
 * serves the reports of the next SOCKET_CHECK_MS, then it is looked at again.
 */

import assert from "node:assert/strict";
import { healthReport, SOCKET_CHECK_MS } from "../../../src/builtins/reports.ts";
import { protocolContext } from "../protocol/_context.ts";

Deno.test("healthReport() behaviour: the socket file is looked at once per SOCKET_CHECK_MS, then again", async () => {
  const { d: base, clock, close } = protocolContext({});
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-health-" });
  const socketPath = `${dir}/bridge.sock`;
  const listener = Deno.listen({ transport: "unix", path: socketPath });
  try {
    const d = { ...base, socketPath };
    const status = () => healthReport(d).checks.socket_connectivity?.status;
    assert.equal(status(), "pass");
    await Deno.remove(socketPath);
    clock.advance(SOCKET_CHECK_MS - 1);
    assert.equal(status(), "pass", "the last look still serves");
    clock.advance(1);
    assert.equal(status(), "fail", "looked at again: gone");
    assert.ok(healthReport(d).errors.includes("Socket file not accessible"));
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
    await close();
  }
});
