/**
 * `dispatch()` called directly through an in-process host: request bytes in, the reply's exact
 * envelope out, and what it counts, for built-ins, helper calls and each kind of failure.
 */

import assert from "node:assert/strict";
import { dispatch } from "../../../src/protocol/dispatch.ts";
import type { Reply } from "../../../src/protocol/envelope.ts";
import { PROTOCOL_VERSION, runtimeDescription } from "../../../src/version.ts";
import { protocolContext } from "./_context.ts";

const enc = new TextEncoder();
const peer = { client: "conn:test" };

/** The reply as text (a helper reply comes as byte parts). */
function text(r: Reply): string {
  if (typeof r === "string") return r;
  const dec = new TextDecoder();
  return r.map((p) => dec.decode(p)).join("");
}

const failure = (error: string, errorType: string) =>
  JSON.stringify({
    success: false,
    error,
    error_type: errorType,
    daemon_info: { version: PROTOCOL_VERSION, python_version: runtimeDescription() },
  });

Deno.test("dispatch() behaviour: test.ping answers the built-in envelope and counts the request", async () => {
  const c = protocolContext({ CPAN_BRIDGE_OPS_SHIM: "0" });
  try {
    const reply = await dispatch(
      c.d,
      enc.encode('{"module":"test","function":"ping","params":{"a":1}}'),
      peer,
    );
    // One buffer, built at once (test.ping's reply is pre-serialised: builtins/mod.ts).
    assert.ok(Array.isArray(reply) && reply.length === 1);
    const env = JSON.parse(text(reply));
    assert.deepEqual(Object.keys(env), ["success", "result"]);
    assert.equal(env.success, true);
    assert.equal(env.result.message, "pong");
    assert.equal(env.result.daemon_version, PROTOCOL_VERSION);
    assert.deepEqual(env.result.input, { a: 1 });
    // Stats are copied before this request counts as processed (contract §4.2).
    assert.equal(env.result.stats.requests_processed, 0);
    assert.equal(c.d.stats.requestsProcessed, 1);
    assert.equal(c.d.stats.requestsFailed, 0);
  } finally {
    await c.close();
  }
});

Deno.test("dispatch() behaviour: a helper call is wrapped with module, function and execution_info", async () => {
  const c = protocolContext();
  try {
    const reply = await dispatch(
      c.d,
      enc.encode(
        '{"module":"probe_helper","function":"upper","params":{"text":"h\\u00e9"},"request_id":"1_2_3"}',
      ),
      peer,
    );
    assert.ok(Array.isArray(reply));
    assert.equal(
      text(reply),
      `{"success":true,"result":{"success":true,"result":"H\\u00c9"},"module":"probe_helper","function":"upper","execution_info":${
        JSON.stringify({
          daemon_version: PROTOCOL_VERSION,
          python_version: runtimeDescription(),
          timestamp: String(c.clock.now() / 1000),
        })
      }}`,
    );
    assert.equal(c.d.stats.requestsProcessed, 1);
  } finally {
    await c.close();
  }
});

Deno.test("dispatch() behaviour: each failure gets the contract's envelope and is counted", async () => {
  const c = protocolContext();
  try {
    const cases: Array<[string | Uint8Array, string, string]> = [
      [
        "{nope",
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "JSONDecodeError",
      ],
      ["[1]", "'list' object has no attribute 'get'", "AttributeError"],
      [
        new Uint8Array([0x7b, 0xff, 0x7d]),
        "'utf-8' codec can't decode byte 0xff in position 1: invalid start byte",
        "UnicodeDecodeError",
      ],
      [
        '{"module":"nope_helper","function":"f"}',
        "Request validation failed: Module not allowed: nope_helper",
        "ValueError",
      ],
      [
        '{"module":"test","function":"nope"}',
        "Request validation failed: Function not allowed: test.nope",
        "ValueError",
      ],
      [
        '{"module":"probe_helper","function":"fail","params":{"message":"boom"}}',
        "Error in probe_helper.fail: boom",
        "RuntimeError",
      ],
    ];
    for (const [body, error, type] of cases) {
      const reply = await dispatch(c.d, typeof body === "string" ? enc.encode(body) : body, peer);
      assert.equal(text(reply), failure(error, type), String(body));
    }
    assert.equal(c.d.stats.requestsFailed, cases.length);
    assert.equal(c.d.stats.requestsProcessed, 0);
    assert.equal(c.d.stats.validationFailures, 2);
    assert.equal(
      c.lines.filter((l) => l.startsWith("error: Error handling client request")).length,
      cases.length,
    );
  } finally {
    await c.close();
  }
});

Deno.test("dispatch() behaviour: CPAN_BRIDGE_DEBUG=1 adds the traceback to a failure", async () => {
  const c = protocolContext({ CPAN_BRIDGE_DEBUG: "1" });
  try {
    const env = JSON.parse(text(await dispatch(c.d, enc.encode("[1]"), peer)));
    assert.deepEqual(Object.keys(env), [
      "success",
      "error",
      "error_type",
      "daemon_info",
      "traceback",
    ]);
    assert.match(env.traceback, /WireError/);
  } finally {
    await c.close();
  }
});
