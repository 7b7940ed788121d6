/**
 * `validateRequest()` called directly (contract §5.1): its order of checks and texts, what it
 * records as security events, and what it returns for a request that passes.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config.ts";
import { WireError } from "../../../src/errors.ts";
import type { LineLogger } from "../../../src/log/mod.ts";
import { SecurityMonitor } from "../../../src/ops/security.ts";
import {
  pyTypeName,
  validateRequest,
  type ValidationDeps,
} from "../../../src/protocol/validate.ts";

const silent: LineLogger = { debug() {}, info() {}, warn() {}, error() {}, critical() {} };

function deps(env: Record<string, string> = {}): ValidationDeps {
  return {
    config: loadConfig(env),
    whitelist: new Map([
      ["test", new Set(["ping", "echo"])],
      ["system", new Set(["health"])],
      ["probe_helper", new Set(["upper"])],
    ]),
    security: new SecurityMonitor(silent, () => 1_700_000_000_000),
    peer: { client: "conn:1" },
  };
}

/** The error `validateRequest` throws for `raw`. */
function refusal(raw: Record<string, unknown>, v = deps()): WireError {
  try {
    validateRequest(raw, v);
  } catch (err) {
    assert.ok(err instanceof WireError);
    return err;
  }
  assert.fail(`accepted: ${JSON.stringify(raw)}`);
}

Deno.test("validateRequest() behaviour: a ping passes and is a liveness ping without request_id", () => {
  const r = validateRequest({ module: "test", function: "ping", params: {}, timestamp: 1 }, deps());
  assert.equal(r.module, "test");
  assert.equal(r.function, "ping");
  assert.equal(r.livenessPing, true);
  assert.equal(r.hasParams, true);
  assert.match(r.requestId, /^[0-9a-f-]{36}$/); // a UUID is made up when none is sent
  const call = validateRequest({
    module: "test",
    function: "ping",
    request_id: "1795882837_4242_7",
    client_version: "2.00",
    perl_caller: "main::x",
  }, deps());
  assert.equal(call.livenessPing, false);
  assert.equal(call.requestId, "1795882837_4242_7");
  assert.equal(call.perlCaller, "main::x");
  assert.equal(call.hasParams, false);
});

Deno.test("validateRequest() behaviour: structure, schema and whitelist failures use the contract's texts", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ function: "ping" }, "Request validation failed: Missing required field: module"],
    [
      {},
      "Request validation failed: Missing required field: module; Missing required field: function",
    ],
    [
      { module: "test", function: "ping", extra: 1 },
      "Request validation failed: Additional property not allowed: extra",
    ],
    [{ module: 5, function: "ping" }, "Request validation failed: Expected string at .module"],
    [
      { module: "probe_helper", function: "up-per" },
      "Request validation failed: String pattern mismatch at .function",
    ],
    [
      { module: "m".repeat(51), function: "f" },
      "Request validation failed: String too long at .module: 51 > 50",
    ],
    [
      { module: "nope_helper", function: "f" },
      "Request validation failed: Module not allowed: nope_helper",
    ],
    [
      { module: "probe_helper", function: "lower" },
      "Request validation failed: Function not allowed: probe_helper.lower",
    ],
    [
      { module: "evil", function: "exec_it" },
      "Request validation failed: Dangerous function/module name detected: exec",
    ],
  ];
  for (const [raw, text] of cases) {
    const err = refusal(raw);
    assert.equal(err.message, text, JSON.stringify(raw));
    assert.equal(err.errorType, "ValueError");
    assert.equal(err.kind, "validation");
  }
});

Deno.test("validateRequest() behaviour: limits refuse, never rewrite, and name the setting", () => {
  const v = deps({ CPAN_BRIDGE_MAX_STRING_LENGTH: "10", CPAN_BRIDGE_MAX_ARRAY_LENGTH: "3" });
  const long = refusal({ module: "test", function: "echo", params: { s: "x".repeat(11) } }, v);
  assert.match(
    long.message,
    /String too long at params\.s: 11 > 10 \(CPAN_BRIDGE_MAX_STRING_LENGTH\)/,
  );
  const arr = refusal({ module: "test", function: "echo", params: [1, 2, 3, 4] }, v);
  assert.match(arr.message, /Array too long at params: 4 > 3 \(CPAN_BRIDGE_MAX_ARRAY_LENGTH\)/);
  const ok = validateRequest(
    { module: "test", function: "echo", params: { s: "x".repeat(10) } },
    v,
  );
  assert.deepEqual(ok.params, { s: "xxxxxxxxxx" });
});

Deno.test("validateRequest() behaviour: injection patterns are logged as events, never refused", () => {
  const v = deps();
  const r = validateRequest({
    module: "probe_helper",
    function: "upper",
    params: { text: "x'; DROP TABLE users; --", path: "../../etc/passwd" },
  }, v);
  assert.equal(r.function, "upper");
  const types = v.security.metrics().events_by_type as Record<string, number>;
  assert.ok((types.suspicious_content ?? 0) >= 1, JSON.stringify(types));
  // A refused module is an event of its own.
  refusal({ module: "nope_helper", function: "f" }, v);
  assert.equal(
    (v.security.metrics().events_by_type as Record<string, number>).unauthorized_module,
    1,
  );
});

Deno.test("pyTypeName() behaviour: Python's names for JSON values", () => {
  assert.deepEqual(
    [[], null, "s", true, 3, 3.5, {}].map(pyTypeName),
    ["list", "NoneType", "str", "bool", "int", "float", "dict"],
  );
});
