/**
 * Process mode (contract §2.8) called directly, and once as `CPANBridge.pm` runs it
 * (`<PYTHON_EXECUTABLE> …/cpan_bridge.py`, the request on stdin): `cpan_bridge.py`'s built-ins,
 * envelopes and exit codes.
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { runProcessMode } from "../../src/process_mode.ts";
import { PROCESS_MODE_VERSION, runtimeDescription } from "../../src/version.ts";

const enc = new TextEncoder();
const config = loadConfig({});

async function run(body: string, max?: number) {
  const out = await runProcessMode(enc.encode(body), config, max);
  assert.ok(/^[ -~]*\n$/.test(out.stdout), "one ASCII-only line");
  return { code: out.code, env: JSON.parse(out.stdout) };
}

Deno.test("runProcessMode() behaviour: test.ping is cpan_bridge.py's, version 1.0.1", async () => {
  const { code, env } = await run('{"module":"test","function":"ping","params":{"a":"é"}}');
  assert.equal(code, 0);
  assert.equal(PROCESS_MODE_VERSION, "1.0.1");
  assert.deepEqual(Object.keys(env), ["success", "result", "module", "function", "execution_info"]);
  assert.deepEqual(env.result, {
    message: "pong",
    version: "1.0.1",
    python_version: runtimeDescription(),
    platform: Deno.build.os === "windows" ? "win32" : Deno.build.os,
    working_directory: Deno.cwd(),
    input: { a: "é" },
    success: true,
  });
  assert.equal(env.module, "test");
  assert.equal(env.function, "ping");
  assert.deepEqual(Object.keys(env.execution_info), ["python_version", "timestamp"]);
  const noShim = await runProcessMode(
    enc.encode('{"module":"test","function":"ping"}'),
    loadConfig({ CPAN_BRIDGE_OPS_SHIM: "0" }),
  );
  assert.ok(!("success" in JSON.parse(noShim.stdout).result));
});

Deno.test("runProcessMode() behaviour: echo, check_module and error as the contract's table", async () => {
  assert.deepEqual(
    (await run('{"module":"test","function":"echo","params":[1,{"b":2}]}')).env.result,
    [
      1,
      { b: 2 },
    ],
  );
  assert.deepEqual((await run('{"module":"test","function":"echo"}')).env.result, {});
  const known = await run(
    '{"module":"test","function":"check_module","params":{"module":"xml_helper"}}',
  );
  assert.equal(known.env.result, true);
  const alias = await run('{"module":"test","function":"check_module","params":"datetime_helper"}');
  assert.equal(alias.env.result, true);
  const unknown = await run(
    '{"module":"test","function":"check_module","params":{"module_name":"nope_helper"}}',
  );
  assert.equal(unknown.env.result, false);
  const missing = await run('{"module":"test","function":"check_module","params":{}}');
  assert.equal(missing.code, 1);
  assert.equal(missing.env.error, "Module name required for check_module");
  const error = await run('{"module":"test","function":"error"}');
  assert.equal(error.code, 1);
  assert.deepEqual(Object.keys(error.env), [
    "success",
    "error",
    "error_type",
    "module",
    "function",
    "python_info",
  ]);
  assert.equal(error.env.error, "Test error for error handling validation");
  assert.equal(error.env.error_type, "Exception");
  const stats = await run('{"module":"test","function":"stats"}');
  assert.equal(stats.env.error, "Unknown test function: stats");
});

Deno.test("runProcessMode() behaviour: input and name errors exit 1 with the contract's texts", async () => {
  const cases: Array<[string, string, string, number?]> = [
    ["", "Failed to read request: Empty input received", "ValueError"],
    [
      "{nope",
      "Invalid JSON in request: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
      "JSONDecodeError",
    ],
    ["[1]", "'list' object has no attribute 'get'", "AttributeError"],
    ['{"module":"test"}', "Missing required fields: module and function", "ValueError"],
    ['{"module":"te st","function":"ping"}', "Invalid module name format: te st", "ValueError"],
    ['{"module":"test","function":"pi-ng"}', "Invalid function name format: pi-ng", "ValueError"],
    [
      '{"module":"system","function":"health"}',
      "system.health needs the daemon: process mode has no daemon state",
      "ValueError",
    ],
    [
      '{"module":"test","function":"ping"}',
      "Failed to read request: Request too large: 35 bytes (max: 20)",
      "ValueError",
      20,
    ],
  ];
  for (const [body, error, type, max] of cases) {
    const { code, env } = await run(body, max);
    assert.equal(code, 1, body);
    assert.equal(env.success, false);
    assert.equal(env.error, error, body);
    assert.equal(env.error_type, type, body);
  }
});

Deno.test("runProcessMode() behaviour: a helper call runs in process and is wrapped", async () => {
  const { code, env } = await run('{"module":"datetime_helper","function":"now","params":{}}');
  assert.equal(code, 0);
  assert.equal(env.module, "datetime_helper");
  assert.ok(env.result.result.epoch > 0);
});

Deno.test("main.ts behaviour: run as …/cpan_bridge.py with the request on stdin, as CPANBridge.pm does", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      new URL("../../main.ts", import.meta.url).pathname,
      "/opt/x/python_helpers/cpan_bridge.py",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(enc.encode('{"module":"test","function":"echo","params":{"k":"v"},"timestamp":1}'));
  await w.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const env = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.deepEqual(env.result, { k: "v" });
  assert.equal(env.success, true);
});

Deno.test("runProcessMode() behaviour: a helper past CPAN_BRIDGE_HELPER_TIMEOUT gets the contract's TimeoutError", async () => {
  // A server that accepts and never answers: http_helper.get waits on it.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of silent) held.push(c);
  })();
  try {
    const body = JSON.stringify({
      module: "http_helper",
      function: "get",
      params: { url: `http://127.0.0.1:${silent.addr.port}/` },
    });
    const out = await runProcessMode(
      enc.encode(body),
      loadConfig({ CPAN_BRIDGE_HELPER_TIMEOUT: "1" }),
    );
    const env = JSON.parse(out.stdout);
    assert.equal(out.code, 1);
    assert.equal(env.error_type, "TimeoutError");
    assert.match(
      env.error,
      /^Error in http_helper\.get: timed out after 1 s \(CPAN_BRIDGE_HELPER_TIMEOUT\)/,
    );
  } finally {
    silent.close();
    await accepting.catch(() => {});
    for (const c of held) c.close();
  }
});
