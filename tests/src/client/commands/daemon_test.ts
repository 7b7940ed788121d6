/**
 * Tests of the `daemon` command's parts that need no daemon: the detached marker of a drop-in
 * start, the command that runs this program again, and the refusal of stray words.
 */

import assert from "node:assert/strict";
import {
  daemon,
  DAEMON_ENV,
  DAEMON_V8_FLAGS,
  daemonEnv,
  isDetached,
  selfCommand,
} from "../../../../src/client/commands/daemon.ts";
import { cliCommand, cliEnv, ROOT } from "../../../_support/daemon.ts";
import { commandInput } from "./_input.ts";

Deno.test("isDetached() is true for --detached or CPAN_BRIDGE_DETACHED=1 only", () => {
  assert.equal(isDetached(["/x/cpan_daemon.py", "--detached"], {}), true);
  assert.equal(isDetached(["/x/cpan_daemon.py"], { CPAN_BRIDGE_DETACHED: "1" }), true);
  assert.equal(isDetached(["/x/cpan_daemon.py"], {}), false);
  for (const v of ["", "0", "true", "yes"]) {
    assert.equal(isDetached(["/x/cpan_daemon.py"], { CPAN_BRIDGE_DETACHED: v }), false, v);
  }
});

Deno.test("selfCommand() from source runs this runtime (the launcher's variable is for the binary)", () => {
  const cmd = selfCommand({ CPAN_BRIDGE_SELF: "/opt/elsewhere/cpan-bridge" });
  assert.equal(cmd[0], Deno.execPath());
  assert.ok(!cmd.includes("/opt/elsewhere/cpan-bridge"));
});

Deno.test("daemon() refuses words other than a cpan_daemon label, exit 64", async () => {
  for (const args of [["daemon", "start"], ["daemon", "cpan_daemon.py", "extra"]]) {
    const input = commandInput(args);
    assert.equal(await daemon(input), 64, args.join(" "));
    assert.deepEqual(input.stderr, [
      "cpan-bridge: daemon takes options only (and an optional cpan_daemon.py label); see --help",
    ]);
  }
});

Deno.test("DAEMON_V8_FLAGS and DAEMON_ENV are what every launcher runs the daemon with", async () => {
  const pairs = Object.entries(DAEMON_ENV);
  assert.ok(pairs.length > 0);
  // From source: this program again, and the tests' daemons.
  assert.ok(selfCommand({}).includes(DAEMON_V8_FLAGS), selfCommand({}).join(" "));
  if (!Deno.env.get("CPAN_BRIDGE_BIN")) assert.ok(cliCommand().includes(DAEMON_V8_FLAGS));
  assert.deepEqual(cliEnv(), { ...DAEMON_ENV });
  // scripts/cpan-bridge (an operator's value kept) and the binary's launcher.
  const script = await Deno.readTextFile(`${ROOT}/scripts/cpan-bridge`);
  assert.match(
    script,
    new RegExp(`^exec "\\$deno" run .* ${DAEMON_V8_FLAGS} "\\$root/main.ts"`, "m"),
  );
  const build = await Deno.readTextFile(`${ROOT}/scripts/build_binary.sh`);
  assert.ok(build.includes(`v8flags=(${DAEMON_V8_FLAGS})`), "build_binary.sh v8flags");
  for (const [k, v] of pairs) {
    assert.ok(script.includes(`export ${k}="\${${k}:-${v}}"`), `scripts/cpan-bridge ${k}`);
    assert.match(
      build,
      new RegExp(`^runtime_env=\\(.*\\b${k}=${v}\\b.*\\)$`, "m"),
      `build_binary.sh ${k}`,
    );
  }
});

Deno.test("daemonEnv() adds DAEMON_ENV's variables that the environment does not set", () => {
  const [k, v] = Object.entries(DAEMON_ENV)[0]!;
  assert.deepEqual(daemonEnv({}), { [k]: v });
  assert.deepEqual(daemonEnv({ [k]: "1048576" }), {});
});
