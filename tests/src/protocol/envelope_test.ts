/**
 * The envelope module (contract §3.3, §2.8): the exact bytes of each envelope, its key order,
 * and the one-write join of small helper replies.
 */

import assert from "node:assert/strict";
import { requestTooLarge, WireError } from "../../../src/errors.ts";
import {
  builtinSuccess,
  failureEnvelope,
  helperSuccess,
  processFailure,
  processSuccess,
  replyParts,
} from "../../../src/protocol/envelope.ts";
import { platformName, PROTOCOL_VERSION, runtimeDescription } from "../../../src/version.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const RT = JSON.stringify(runtimeDescription());

Deno.test("builtinSuccess() behaviour: {success, result} and nothing else", () => {
  assert.equal(builtinSuccess({ a: [1, "é"] }), '{"success":true,"result":{"a":[1,"é"]}}');
  assert.equal(builtinSuccess(undefined), '{"success":true,"result":null}');
  assert.equal(builtinSuccess(Number.NaN), '{"success":true,"result":null}');
  assert.equal(builtinSuccess({ n: 10n }), '{"success":true,"result":{"n":"10"}}');
});

Deno.test("helperSuccess() behaviour: the result bytes wrapped as contract §3.3a, one part when small", () => {
  const result = enc.encode('{"success":true,"result":{"epoch":1}}');
  const parts = helperSuccess(result, "datetime_helper", "now", 1_795_882_837_034);
  assert.equal(parts.length, 1);
  assert.equal(
    dec.decode(parts[0]),
    `{"success":true,"result":{"success":true,"result":{"epoch":1}},"module":"datetime_helper","function":"now","execution_info":{"daemon_version":"${PROTOCOL_VERSION}","python_version":${RT},"timestamp":"1795882837.034"}}`,
  );
  // Past 64 KiB the result is not copied: head, the result's own buffer, tail.
  const big = enc.encode(`"${"x".repeat(70_000)}"`);
  const three = helperSuccess(big, "m", "f", 1000);
  assert.equal(three.length, 3);
  assert.equal(three[1], big);
  assert.equal(
    three.map((p) => dec.decode(p)).join(""),
    `{"success":true,"result":${
      dec.decode(big)
    },"module":"m","function":"f","execution_info":{"daemon_version":"${PROTOCOL_VERSION}","python_version":${RT},"timestamp":"1"}}`,
  );
});

Deno.test("failureEnvelope() behaviour: a WireError as it is, anything else as an internal error", () => {
  const info = `"daemon_info":{"version":"${PROTOCOL_VERSION}","python_version":${RT}}`;
  assert.equal(
    failureEnvelope(requestTooLarge(10, 10), 0),
    `{"success":false,"error":"Request too large: 10 bytes (max: 10)","error_type":"ValueError",${info}}`,
  );
  assert.equal(
    failureEnvelope(new TypeError("x is not a function"), 0),
    `{"success":false,"error":"Internal error: x is not a function","error_type":"RuntimeError",${info}}`,
  );
  assert.equal(
    failureEnvelope("plain", 0),
    `{"success":false,"error":"Internal error: plain","error_type":"RuntimeError",${info}}`,
  );
  const withTrace = JSON.parse(failureEnvelope(new WireError("m", "ValueError"), 1));
  assert.equal(typeof withTrace.traceback, "string");
  assert.ok(!("traceback" in JSON.parse(failureEnvelope(new WireError("m", "ValueError"), 0))));
});

Deno.test("replyParts() behaviour: text is encoded per the wire mode, byte parts pass through", () => {
  assert.equal(dec.decode(replyParts('{"s":"é"}', "repair")[0]), '{"s":"\\u00e9"}');
  assert.equal(dec.decode(replyParts('{"s":"é"}', "exact")[0]), '{"s":"é"}');
  const parts = [enc.encode("a"), enc.encode("b")];
  assert.equal(replyParts(parts, "repair"), parts);
});

Deno.test("processSuccess() and processFailure() behaviour: cpan_bridge.py's envelopes, one ASCII line", () => {
  const now = new Date(Date.UTC(2026, 11, 1, 12, 0, 0));
  assert.equal(
    processSuccess({ s: "é" }, "test", "echo", now),
    `{"success":true,"result":{"s":"\\u00e9"},"module":"test","function":"echo","execution_info":{"python_version":${RT},"timestamp":"2026-12-01T12:00:00.000Z"}}\n`,
  );
  assert.equal(
    processFailure("Test error", "Exception", "test", "error"),
    `{"success":false,"error":"Test error","error_type":"Exception","module":"test","function":"error","python_info":{"version":${RT},"platform":"${platformName()}"}}\n`,
  );
  // Before the request is parsed, module and function are unknown and left out.
  assert.equal(
    processFailure(
      "Failed to read request: Empty input received",
      "ValueError",
      undefined,
      undefined,
    ),
    `{"success":false,"error":"Failed to read request: Empty input received","error_type":"ValueError","python_info":{"version":${RT},"platform":"${platformName()}"}}\n`,
  );
});
