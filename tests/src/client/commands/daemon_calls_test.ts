/**
 * Tests of the one-call commands (`ping`, `status`, `--metrics`, `cleanup`, `call`, `--health`)
 * called directly against an in-process daemon, their output kept in arrays.
 */

import assert from "node:assert/strict";
import {
  call,
  cleanup,
  health,
  metrics,
  ping,
  status,
} from "../../../../src/client/commands/daemon_calls.ts";
import { UnreachableError } from "../../../../src/client/bridge_client.ts";
import { startTestDaemon } from "../../../_support/daemon.ts";
import { commandInput } from "./_input.ts";

const NO_SOCKET = "/tmp/cpan-bridge-commands-test-no-such.sock";

Deno.test("ping() prints the socket and the daemon's uptime", async () => {
  await using td = await startTestDaemon();
  const input = commandInput(["ping", "--socket", td.socket]);
  assert.equal(await ping(input), 0);
  assert.equal(input.stdout.length, 1);
  assert.match(
    input.stdout[0] ?? "",
    new RegExp(`^pong from ${td.socket} \\(uptime \\d+\\.\\d s\\)$`),
  );
  assert.deepEqual(input.stderr, []);
});

Deno.test("status() prints one line and metrics() the JSON without the ops-shim copies", async () => {
  await using td = await startTestDaemon();
  const s = commandInput(["status", "--socket", td.socket]);
  assert.equal(await status(s), 0);
  assert.equal(s.stdout.length, 1);
  assert.doesNotMatch(s.stdout[0] ?? "", /\n/);
  const m = commandInput(["--metrics", "--socket", td.socket]);
  assert.equal(await metrics(m), 0);
  const r = JSON.parse(m.stdout[0] ?? "");
  assert.ok("daemon_info" in r);
  assert.ok(!("success" in r) && !("result" in r));
});

Deno.test("cleanup() says how many stale connections it closed", async () => {
  await using td = await startTestDaemon();
  const input = commandInput(["cleanup", "--socket", td.socket]);
  assert.equal(await cleanup(input), 0);
  assert.match(input.stdout[0] ?? "", /^Cleaned \d+ stale connections, \d+ remaining$/);
});

Deno.test("call() prints the whole envelope; exit 1 on an error reply, 64 on bad params", async () => {
  await using td = await startTestDaemon();
  const ok = commandInput(["call", "test", "echo", '{"a":"é"}', "--socket", td.socket]);
  assert.equal(await call(ok), 0);
  const env = JSON.parse(ok.stdout.join("\n"));
  assert.equal(env.success, true);
  const bad = commandInput(["call", "no_such_module", "f", "--socket", td.socket]);
  assert.equal(await call(bad), 1);
  assert.equal(JSON.parse(bad.stdout.join("\n")).success, false);
  const json = commandInput(["call", "test", "echo", "[1,", "--socket", td.socket]);
  assert.equal(await call(json), 64);
  assert.match(json.stderr[0] ?? "", /^cpan-bridge: Cannot parse params as JSON: /);
  assert.deepEqual(json.stdout, []);
});

Deno.test("health() prints the status line and exits by status", async () => {
  await using td = await startTestDaemon();
  const input = commandInput(["--health", "--socket", td.socket]);
  const code = await health(input);
  assert.ok([0, 1, 2].includes(code), `exit ${code}`);
  assert.match(input.stdout[0] ?? "", /^CPAN-BRIDGE (OK|WARNING|CRITICAL) /);
});

Deno.test("ping() and status() reject with UnreachableError when no daemon answers", async () => {
  for (const handler of [ping, status]) {
    await assert.rejects(
      handler(commandInput(["ping", "--socket", NO_SOCKET])),
      UnreachableError,
    );
  }
});
