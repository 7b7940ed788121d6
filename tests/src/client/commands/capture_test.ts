/**
 * Tests of the `proxy` and `replay` commands' refusals, called directly (the capture and replay
 * themselves are tested in tests/src/client/capture/).
 */

import assert from "node:assert/strict";
import { proxy, replay } from "../../../../src/client/commands/capture.ts";
import { commandInput } from "./_input.ts";

Deno.test("proxy() needs --upstream and --capture, exit 64", async () => {
  for (
    const args of [["proxy"], ["proxy", "--upstream", "/tmp/old.sock"], [
      "proxy",
      "--capture",
      "/tmp/c",
    ]]
  ) {
    const input = commandInput(args);
    assert.equal(await proxy(input), 64, args.join(" "));
    assert.deepEqual(input.stderr, [
      "cpan-bridge: proxy needs --upstream SOCKET and --capture FILE; see --help",
    ]);
  }
});

Deno.test("replay() needs a FILE (64) that it can read (66)", async () => {
  const none = commandInput(["replay"]);
  assert.equal(await replay(none), 64);
  assert.deepEqual(none.stderr, [
    "cpan-bridge: replay needs a capture FILE; see cpan-bridge --help",
  ]);
  const missing = commandInput(["replay", "/tmp/cpan-bridge-no-such-capture.jsonl"]);
  assert.equal(await replay(missing), 66);
  assert.match(
    missing.stderr[0] ?? "",
    /^cpan-bridge: Cannot read the capture \/tmp\/cpan-bridge-no-such-capture\.jsonl: /,
  );
  assert.deepEqual(missing.stdout, []);
});
