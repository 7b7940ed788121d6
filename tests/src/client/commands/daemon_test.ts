/**
 * Tests of the `daemon` command's parts that need no daemon: the detached marker of a drop-in
 * start, the command that runs this program again, and the refusal of stray words.
 */

import assert from "node:assert/strict";
import { daemon, isDetached, selfCommand } from "../../../../src/client/commands/daemon.ts";
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
