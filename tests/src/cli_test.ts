/**
 * Tests of `runCli()` through the real entry point (`main.ts` in a child process): the help text,
 * usage errors and their exit codes, `--print-config`, and the client commands against no daemon.
 * The expected texts were taken from the command line before it became a table.
 */

import assert from "node:assert/strict";
import { runCli, startTestDaemon } from "../_support/daemon.ts";
import { COMMANDS, usage } from "../../src/cli.ts";
import { CONFIG_KEYS, loadConfig, operatorKeys } from "../../src/config.ts";

const HELP = new URL("../testdata/cli/help.txt", import.meta.url);
const NO_SOCKET = "/tmp/cpan-bridge-cli-test-no-such.sock";
/** A clean environment: only what the runtime needs. */
const ENV = { PATH: "/usr/bin:/bin", HOME: "/tmp" };

Deno.test("usage() is written from COMMANDS and keeps the help text's bytes", async () => {
  assert.equal(`${usage()}\n`, await Deno.readTextFile(HELP));
  for (const c of COMMANDS) {
    const mentioned = c.flag ? `--${c.flag}` : c.name;
    assert.ok(usage().includes(mentioned), `${c.name} is not in --help`);
  }
});

Deno.test("COMMANDS selects each command by one word or one flag", () => {
  const words = COMMANDS.flatMap((c) => c.words ?? [c.name]);
  assert.equal(new Set(words).size, words.length);
  const flags = COMMANDS.flatMap((c) => (c.flag ? [c.flag] : []));
  assert.equal(new Set(flags).size, flags.length);
  assert.equal(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length);
  for (const c of COMMANDS) {
    assert.ok((c.words ?? [c.name]).length > 0 || c.flag, `${c.name} cannot be selected`);
    // Only commands that do not read the configuration may run before it is loaded.
    assert.ok(!c.early || !c.config, c.name);
  }
});

Deno.test("runCli() --help, -h and no command print the same usage text, exit 0", async () => {
  const expected = await Deno.readTextFile(HELP);
  for (const args of [["--help"], ["-h"], [], ["help"]]) {
    const r = await runCli(args, { env: ENV });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, expected, args.join(" "));
    assert.equal(r.stderr, "");
  }
});

Deno.test("runCli() usage errors exit 64 with a message that names the fix", async () => {
  const cases: Array<[string[], string]> = [
    [["bogus"], "cpan-bridge: unknown command 'bogus'; see cpan-bridge --help\n"],
    [
      ["--bogus"],
      `cpan-bridge: Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "--bogus"; see cpan-bridge --help\n`,
    ],
    [["call"], "cpan-bridge: call needs MODULE FUNCTION [JSON params]; see cpan-bridge --help\n"],
    [
      ["call", "test"],
      "cpan-bridge: call needs MODULE FUNCTION [JSON params]; see cpan-bridge --help\n",
    ],
    [
      ["call", "test", "echo", "{nope"],
      `cpan-bridge: Cannot parse params as JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2)\n`,
    ],
    [["replay"], "cpan-bridge: replay needs a capture FILE; see cpan-bridge --help\n"],
    [["proxy"], "cpan-bridge: proxy needs --upstream SOCKET and --capture FILE; see --help\n"],
    [
      ["daemon", "foo"],
      "cpan-bridge: daemon takes options only (and an optional cpan_daemon.py label); see --help\n",
    ],
    [
      ["report", "--lines", "x"],
      "cpan-bridge: --lines needs a whole number; see cpan-bridge --help\n",
    ],
    [
      ["install"],
      "cpan-bridge: install needs the single binary: build it (deno task build), then run dist/cpan-bridge install\n",
    ],
  ];
  for (const [args, stderr] of cases) {
    const r = await runCli([...args, "--socket", NO_SOCKET], { env: ENV });
    assert.equal(r.code, 64, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, stderr, args.join(" "));
    assert.equal(r.stdout, "");
  }
});

Deno.test("runCli() --print-config lists every operator setting with its value and meaning", async () => {
  const r = await runCli(["--print-config", "--socket", NO_SOCKET], {
    env: { ...ENV, CPAN_BRIDGE_LOG_KEEP: "7", CPAN_BRIDGE_SELF: "/opt/x" },
  });
  assert.equal(r.code, 0, r.stderr);
  const config = loadConfig({ CPAN_BRIDGE_LOG_KEEP: "7" }, { socketPath: NO_SOCKET });
  const expected = operatorKeys().map(([key, def]) =>
    `${def.env}=${String(config[key])}\t# ${def.doc}`
  );
  assert.deepEqual(r.stdout.split("\n"), [...expected, ""]);
  assert.ok(expected.length >= 40);
  // Internal keys are set by the program for itself and not listed.
  assert.doesNotMatch(r.stdout, /CPAN_BRIDGE_SELF|CPAN_BRIDGE_DETACHED/);
  assert.ok(CONFIG_KEYS.selfBinary.internal && CONFIG_KEYS.detached.internal);
});

Deno.test("runCli() refuses a bad setting with exit 78 before any command runs", async () => {
  for (const args of [["--print-config"], ["status"], ["daemon"]]) {
    const r = await runCli([...args, "--socket", NO_SOCKET], {
      env: { ...ENV, CPAN_BRIDGE_LOG_KEEP: "many" },
    });
    assert.equal(r.code, 78, args.join(" "));
    assert.equal(
      r.stderr,
      'cpan-bridge: Cannot use CPAN_BRIDGE_LOG_KEEP (logKeep)="many": expected a whole number\n',
    );
  }
});

Deno.test("runCli() client commands exit 3 when no daemon answers", async () => {
  for (const cmd of ["status", "--metrics", "metrics", "ping", "cleanup", "stop"]) {
    const r = await runCli([cmd, "--socket", NO_SOCKET], { env: ENV });
    assert.equal(r.code, 3, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /^cpan-bridge: .*cpan-bridge-cli-test-no-such\.sock/, cmd);
    assert.equal(r.stdout, "");
  }
});

Deno.test("runCli() --health and health say UNKNOWN on stdout and exit 3 when no daemon answers", async () => {
  // A flag wins over a word: `status --health` is the health check.
  for (const args of [["--health"], ["health"], ["--health", "--json"], ["status", "--health"]]) {
    const r = await runCli([...args, "--socket", NO_SOCKET], { env: ENV });
    assert.equal(r.code, 3, `${args.join(" ")}: ${r.stderr}`);
    if (args.includes("--json")) {
      assert.equal(JSON.parse(r.stdout).overall_status, "unreachable");
    } else assert.match(r.stdout, /^CPAN-BRIDGE UNKNOWN - unreachable: .*no-such\.sock.*\n$/);
  }
});

Deno.test("runCli() print-config and version are flags, not words", async () => {
  for (const word of ["print-config", "version"]) {
    const r = await runCli([word, "--socket", NO_SOCKET], { env: ENV });
    assert.equal(r.code, 64, word);
    assert.equal(r.stderr, `cpan-bridge: unknown command '${word}'; see cpan-bridge --help\n`);
  }
});

Deno.test("runCli() daemon with an unwritable log directory exits 1 and says which setting to change", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-cli-" });
  try {
    const r = await runCli(
      ["daemon", "--socket", `${dir}/s.sock`, "--log-dir", `${dir}/missing/logs`],
      { env: ENV },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^cpan-bridge: Cannot open log file .*missing\/logs\/cpan_daemon\.log: .* \(set --log-dir or CPAN_BRIDGE_LOG_DIR to a writable directory\)\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCli() ping, status and call print one reply each from a live daemon", async () => {
  await using td = await startTestDaemon();
  const ping = await runCli(["ping", "--socket", td.socket], { env: ENV });
  assert.equal(ping.code, 0, ping.stderr);
  assert.match(ping.stdout, new RegExp(`^pong from ${td.socket} \\(uptime \\d+\\.\\d s\\)\\n$`));
  const call = await runCli(["call", "test", "echo", '{"a":1}', "--socket", td.socket], {
    env: ENV,
  });
  assert.equal(call.code, 0, call.stderr);
  assert.equal(JSON.parse(call.stdout).success, true);
  const bad = await runCli(["call", "no_such", "f", "--socket", td.socket], { env: ENV });
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.stdout).success, false);
});
