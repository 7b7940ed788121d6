/**
 * Tests of the byte bounds on echoed values: `boundText()`, and a daemon fed the issue's
 * amplification request (nested 150 KB keys) whose error texts, `recent_errors`, reply sizes and
 * log lines stay small.
 */

import assert from "node:assert/strict";
import { boundText, MAX_ERROR_BYTES, WireError } from "../../src/errors.ts";
import { startTestDaemon } from "../_support/daemon.ts";
import { rawCall } from "../_support/raw.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;

Deno.test("boundText() cuts by UTF-8 bytes, never inside a character, and leaves short text alone", () => {
  assert.equal(boundText("short", 100), "short");
  const exact = "é".repeat(50); // 100 bytes
  assert.equal(boundText(exact, 100), exact);
  for (const unit of ["x", "é", "€", "😀"]) {
    const cut = boundText(unit.repeat(100_000), 1000);
    assert.ok(bytes(cut) <= 1000, `${unit}: ${bytes(cut)} bytes`);
    assert.match(cut, /… \[\d+ characters, cut to 1000 bytes\]$/);
    assert.ok(!cut.includes("\ufffd"), "a character was split");
  }
  const e = new WireError(`Error in m.f: ${"y".repeat(1_000_000)}`, "RuntimeError");
  assert.ok(bytes(e.message) <= MAX_ERROR_BYTES);
  assert.match(e.message, /^Error in m\.f: yyy/);
});

Deno.test({
  name: "validateRequest() errors with nested 150 KB keys stay small in replies, reports and logs",
  async fn() {
    await using d = await startTestDaemon();
    // 65 levels of 150 KB keys (past CPAN_BRIDGE_MAX_OBJECT_DEPTH), then a too-long string.
    const key = (i: number) => `${i}`.padEnd(150_000, "k");
    let inner: unknown = "v".repeat(20_000_000).slice(0, 10);
    for (let i = 64; i >= 0; i--) inner = { [key(i)]: inner };
    const body = JSON.stringify({ module: "test", function: "echo", params: inner });
    let worstReply = 0;
    for (let n = 0; n < 10; n++) {
      const reply = await rawCall(d.socket, body);
      worstReply = Math.max(worstReply, bytes(reply));
      const r = JSON.parse(reply);
      assert.equal(r.success, false);
      assert.match(
        r.error,
        /^Request validation failed: Nesting too deep at params\.0k+…\(150000\)\.1k+/,
      );
    }
    assert.ok(worstReply < 16_384, `a reply of ${worstReply} bytes`);
    // An unknown top-level key of 150 KB is echoed bounded too.
    const r2 = JSON.parse(
      await rawCall(d.socket, JSON.stringify({ module: "test", function: "echo", [key(1)]: 1 })),
    );
    assert.match(r2.error, /Additional property not allowed: 1k+…\(150000\)$/);
    const perf = await rawCall(d.socket, '{"module":"system","function":"performance"}');
    assert.ok(bytes(perf) < 256 * 1024, `system.performance reply of ${bytes(perf)} bytes`);
    await d.daemon.context.logs.flush();
    for (const name of ["cpan_daemon.log", "cpan_security.log"] as const) {
      const log = await d.readLog(name);
      const longest = Math.max(...log.split("\n").map(bytes));
      assert.ok(longest < 20_000, `${name}: a line of ${longest} bytes`);
      assert.ok(bytes(log) < 1_000_000, `${name}: ${bytes(log)} bytes after 11 requests`);
    }
    // deno-lint-ignore no-console -- the figures docs/robustness.md reports
    console.log(`worst reply ${worstReply} bytes, system.performance ${bytes(perf)} bytes`);
  },
});
