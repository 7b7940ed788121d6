/**
 * @module
 * `cpan-bridge proxy`: the capture file rotates at its size limit.
 */

import assert from "node:assert/strict";
import { startProxy } from "../../../../src/client/capture/proxy.ts";
import { rawCall } from "../../../_support/raw.ts";
import { startTestDaemon } from "../../../_support/daemon.ts";

Deno.test("proxy rotates its capture file at the size limit", async () => {
  await using real = await startTestDaemon();
  const dir = await Deno.makeTempDir({ prefix: "capture-rot-" });
  const proxy = await startProxy({
    upstream: real.socket,
    socket: `${dir}/p.sock`,
    capture: `${dir}/c.jsonl`,
    captureMaxBytes: 2000,
  });
  try {
    for (let i = 0; i < 20; i++) {
      await rawCall(
        proxy.socket,
        JSON.stringify({ module: "test", function: "echo", params: { i } }),
      );
    }
  } finally {
    await proxy.close();
  }
  try {
    const cur = (await Deno.stat(`${dir}/c.jsonl`)).size;
    const old = (await Deno.stat(`${dir}/c.jsonl.1`)).size;
    assert.ok(cur <= 2000 && old <= 2000, `${cur} / ${old}`);
    assert.equal(proxy.capture.written, 20);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
