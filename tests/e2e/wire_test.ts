/**
 * Wire behaviour over a real Unix socket (contract §2, §3): framing, envelopes, every error of
 * §3.4, encoding, size cap, concurrency.
 */
import assert from "node:assert/strict";
import { startTestDaemon } from "../_support/daemon.ts";
import { waitFor } from "../_support/wait.ts";
import { rawCall, rawJson, timedPing } from "../_support/raw.ts";

Deno.test({
  name: "daemon answers test.ping with every contract key",
  fn: async () => {
    await using d = await startTestDaemon();
    const r = await rawJson(d.socket, { module: "test", function: "ping", params: { x: 1 } });
    assert.equal(r.success, true);
    assert.deepEqual(Object.keys(r), ["success", "result"]);
    const res = r.result as Record<string, unknown>;
    assert.deepEqual(Object.keys(res), [
      "message",
      "daemon_version",
      "python_version",
      "platform",
      "uptime",
      "stats",
      "input",
      "success", // ops shim (contract §13.9)
      "result", // ops shim: a copy without input
    ]);
    const { input: _input, success: _s, result: copy, ...rest } = res;
    assert.deepEqual(copy, rest);
    assert.equal(res.message, "pong");
    assert.equal(res.daemon_version, "1.0.0");
    assert.deepEqual(res.input, { x: 1 });
    assert.deepEqual(Object.keys(res.stats as object), [
      "requests_processed",
      "requests_failed",
      "requests_rejected",
      "validation_failures",
      "security_events",
      "start_time",
      "last_cleanup",
      "last_resource_check",
      "connections_total",
      "connections_rejected",
      "peak_connections",
    ]);
  },
});

Deno.test({
  name: "helper success envelope wraps the helper result with execution_info",
  fn: async () => {
    await using d = await startTestDaemon();
    const r = await rawJson(d.socket, {
      module: "datetime_helper",
      function: "now",
      params: {},
      request_id: "1_2_3",
      client_version: "2.00",
      timestamp: 1,
      perl_caller: "main::x",
    });
    assert.deepEqual(Object.keys(r), ["success", "result", "module", "function", "execution_info"]);
    assert.equal((r.result as { success: boolean }).success, true);
    const epoch = (r.result as { result: { epoch: number } }).result.epoch;
    assert.ok(Math.abs(epoch - Date.now() / 1000) < 5);
    assert.deepEqual(Object.keys(r.execution_info as object), [
      "daemon_version",
      "python_version",
      "timestamp",
    ]);
  },
});

const errorCases: Array<[string, string | Uint8Array, RegExp | string, string]> = [
  ["bad JSON", "nope", "Expecting value: line 1 column 1 (char 0)", "JSONDecodeError"],
  [
    "truncated JSON",
    '{"module":"test","function":"pi',
    /^Unterminated string starting at/,
    "JSONDecodeError",
  ],
  [
    "concatenated documents",
    '{"module":"test","function":"ping"}{"a":1}',
    "Extra data: line 1 column 36 (char 35)",
    "JSONDecodeError",
  ],
  ["a JSON array", "[1,2]", "'list' object has no attribute 'get'", "AttributeError"],
  ["a JSON string", '"x"', "'str' object has no attribute 'get'", "AttributeError"],
  ["empty request", "", "Empty request received", "ValueError"],
  [
    "bad UTF-8",
    new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]),
    "'utf-8' codec can't decode byte 0xff in position 2: invalid start byte",
    "UnicodeDecodeError",
  ],
  [
    "extra top-level key",
    '{"module":"test","function":"ping","extra":1}',
    "Request validation failed: Additional property not allowed: extra",
    "ValueError",
  ],
  [
    "missing module",
    '{"function":"ping"}',
    "Request validation failed: Missing required field: module",
    "ValueError",
  ],
  [
    "module not a string",
    '{"module":123,"function":"ping"}',
    "Request validation failed: Expected string at .module",
    "ValueError",
  ],
  [
    "bad function name",
    '{"module":"database","function":"1abc"}',
    "Request validation failed: String pattern mismatch at .function",
    "ValueError",
  ],
  [
    "long module name",
    `{"module":"${"a".repeat(60)}","function":"x"}`,
    "Request validation failed: String too long at .module: 60 > 50",
    "ValueError",
  ],
  [
    "unknown module",
    '{"module":"hacker_module","function":"ping"}',
    "Request validation failed: Module not allowed: hacker_module",
    "ValueError",
  ],
  [
    "dangerous name",
    '{"module":"os_tools","function":"run"}',
    "Request validation failed: Dangerous function/module name detected: os",
    "ValueError",
  ],
  [
    "unknown function",
    '{"module":"test","function":"eval"}',
    "Request validation failed: Function not allowed: test.eval",
    "ValueError",
  ],
  [
    "whitelisted function not built",
    '{"module":"datetime_helper","function":"format_date","params":{}}',
    "Function 'datetime_helper.format_date' is not implemented in this version of cpan-bridge",
    "NotImplementedError",
  ],
  [
    "unexpected keyword",
    '{"module":"datetime_helper","function":"now","params":{"bogus":1}}',
    "Error in datetime_helper.now: now() got an unexpected keyword argument 'bogus'",
    "RuntimeError",
  ],
];

for (const [what, body, error, type] of errorCases) {
  Deno.test({
    name: `daemon answers ${what} with the contract's error`,
    fn: async () => {
      await using d = await startTestDaemon();
      const r = JSON.parse(await rawCall(d.socket, body));
      assert.equal(r.success, false);
      if (typeof error === "string") assert.equal(r.error, error);
      else assert.match(r.error, error);
      assert.match(r.error_type, new RegExp(`^(${type})$`));
      assert.deepEqual(Object.keys(r), ["success", "error", "error_type", "daemon_info"]);
      // the daemon keeps serving
      await timedPing(d.socket);
    },
  });
}

Deno.test({
  name: "daemon keeps multi-line strings, tabs and long strings intact (no sanitising)",
  fn: async () => {
    await using d = await startTestDaemon();
    const text = "SELECT a\n\tFROM t\r\nWHERE region_code = 1 -- ../x C:\\dir\\file ${VAR}" +
      "x".repeat(20000);
    const r = await rawJson(d.socket, {
      module: "test",
      function: "echo",
      params: { text, list: Array.from({ length: 1500 }, (_, i) => i) },
    });
    assert.equal(r.success, true);
    assert.equal((r.result as { text: string }).text, text);
    assert.equal((r.result as { list: number[] }).list.length, 1500);
    const sec = await d.readLog("cpan_security.log");
    assert.match(sec, /injection_attempt/); // logged, not rejected
  },
});

Deno.test({
  name: "daemon refuses an 11 MB request fast while other pings answer",
  fn: async () => {
    await using d = await startTestDaemon();
    const big = `{"module":"test","function":"echo","params":{"s":"${
      "x".repeat(11 * 1024 * 1024)
    }"}}`;
    const t0 = performance.now();
    const pings: number[] = [];
    let done = false;
    const pinger = (async () => {
      while (!done) pings.push(await timedPing(d.socket));
    })();
    const r = JSON.parse(await rawCall(d.socket, big));
    const elapsed = performance.now() - t0;
    done = true;
    await pinger;
    assert.equal(r.error, "Request too large: 10485760 bytes (max: 10485760)");
    assert.ok(elapsed < 1000, `refusal took ${elapsed} ms`);
    assert.ok(pings.length > 0);
    const sec = await d.readLog("cpan_security.log");
    assert.match(sec, /oversized_request/);
  },
});

Deno.test({
  name: "daemon writes replies far larger than a socket buffer completely",
  fn: async () => {
    await using d = await startTestDaemon();
    const s = "y".repeat(3 * 1024 * 1024);
    const r = await rawJson(d.socket, { module: "test", function: "echo", params: { s } });
    assert.equal((r.result as { s: string }).s.length, s.length);
  },
});

Deno.test({
  name: "daemon ends a request at the end of the JSON without a half-close",
  fn: async () => {
    await using d = await startTestDaemon();
    const text = await rawCall(d.socket, '{"module":"test","function":"ping","params":{}}\n', {
      halfClose: false,
    });
    assert.equal(JSON.parse(text).success, true);
  },
});

Deno.test({
  name: "daemon times out a silent client with the contract's error",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_READ_TIMEOUT: "0.3" });
    const text = await rawCall(d.socket, '{"module":"test",', { halfClose: false });
    assert.equal(JSON.parse(text).error, "Request timeout - data transmission too slow");
    await timedPing(d.socket);
  },
});

Deno.test({
  name: "daemon serves 64 concurrent clients correctly",
  fn: async () => {
    await using d = await startTestDaemon();
    const results = await Promise.all(
      Array.from(
        { length: 64 },
        (_, i) =>
          rawJson(d.socket, {
            module: "test",
            function: "echo",
            params: { i, s: `client-${i}-é` },
          }),
      ),
    );
    results.forEach((r, i) => assert.deepEqual(r.result, { i, s: `client-${i}-é` }));
  },
});

Deno.test({
  name:
    "daemon makes a helper call past CPAN_BRIDGE_MAX_CONNECTIONS wait, then replies Too many connections",
  fn: async () => {
    await using d = await startTestDaemon({
      CPAN_BRIDGE_MAX_CONNECTIONS: "2",
      CPAN_BRIDGE_CONNECTION_WAIT: "0.3",
    });
    const held = await Promise.all(
      [1, 2].map(() => Deno.connect({ transport: "unix", path: d.socket })),
    );
    try {
      // Make sure both held connections are registered before the extra one arrives.
      await waitFor(() => d.daemon.context.connections.size >= 2, {
        what: "2 open connections",
        deadlineMs: 5000,
      });
      const r = await rawJson(d.socket, { module: "datetime_helper", function: "now", params: {} });
      assert.equal(r.success, false);
      assert.match(String(r.error), /^Too many connections: 2 already open/);
      assert.equal(r.error_type, "BusyError");
      await timedPing(d.socket);
    } finally {
      for (const c of held) c.close();
    }
  },
});
