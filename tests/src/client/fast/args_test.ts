/**
 * @module
 * fastCommand(): the command lines main.ts answers from the small modules, and every near miss
 * that must still go to runCli.
 */
import assert from "node:assert/strict";
import { fastCommand } from "../../../../src/client/fast/args.ts";

Deno.test("fastCommand() takes --version and -v alone", () => {
  assert.deepEqual(fastCommand(["--version"]), { kind: "version" });
  assert.deepEqual(fastCommand(["-v"]), { kind: "version" });
});

Deno.test("fastCommand() takes --health with --json and --socket in any order", () => {
  assert.deepEqual(fastCommand(["--health"]), { kind: "health", json: false });
  assert.deepEqual(fastCommand(["--json", "--health"]), { kind: "health", json: true });
  assert.deepEqual(fastCommand(["--health", "--socket", "/run/b.sock"]), {
    kind: "health",
    json: false,
    socket: "/run/b.sock",
  });
  assert.deepEqual(fastCommand(["--socket=/run/a=b.sock", "--json", "--health"]), {
    kind: "health",
    json: true,
    socket: "/run/a=b.sock",
  });
});

Deno.test("fastCommand() leaves every other command line to runCli", () => {
  const others = [
    [],
    ["--help"],
    ["-h"],
    ["--version", "--version"],
    ["--version", "x"],
    ["-v", "--health"],
    ["--health", "--version"],
    ["--health", "--health"],
    ["--health", "--json", "--json"],
    ["--health", "--metrics"],
    ["--health", "status"],
    ["--health", "--socket"],
    ["--health", "--socket", ""],
    ["--health", "--socket="],
    ["--health", "--socket", "--json"],
    ["--health", "--socket=-x"],
    ["--health", "--socket", "a", "--socket", "b"],
    ["--health", "--log-dir", "/tmp"],
    ["--health", "--"],
    ["--health", "--json=1"],
    ["--json"],
    ["--socket", "/s"],
    ["status"],
    ["daemon"],
    // runCli dispatches a first argument naming a drop-in script before it parses flags.
    ["--socket=/opt/cpan_daemon.py", "--health"],
    ["--socket=/opt/cpan_bridge", "--health"],
    ["/opt/cpan_bridge.py", "--version"],
  ];
  for (const argv of others) assert.equal(fastCommand(argv), undefined, JSON.stringify(argv));
});
