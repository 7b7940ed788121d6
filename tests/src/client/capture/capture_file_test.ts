/**
 * @module
 * The capture file of `cpan-bridge proxy`: one failed write loses that record only.
 */

import assert from "node:assert/strict";
import { CaptureWriter } from "../../../../src/client/capture/capture_file.ts";

Deno.test("CaptureWriter keeps writing after one failed write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "capture-fail-" });
  const w = new CaptureWriter(`${dir}/sub/c.jsonl`, 1 << 20);
  const rec = {
    ts: "t",
    ms: 0,
    request: {},
    reply: {},
    request_bytes: 0,
    reply_bytes: 0,
    truncated: false,
  };
  try {
    await assert.rejects(w.append(rec)); // the directory does not exist yet
    await Deno.mkdir(`${dir}/sub`);
    await w.append(rec);
    await w.append(rec);
    assert.equal(w.written, 2);
  } finally {
    await w.close();
    await Deno.remove(dir, { recursive: true });
  }
});
