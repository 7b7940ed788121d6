/**
 * @module
 * How `cpan-bridge replay` compares a reply with the captured one: times, ids and key order only
 * are ignored.
 */

import assert from "node:assert/strict";
import { compareReplies, normalise } from "../../../../src/client/capture/compare.ts";

Deno.test("normalise() and compareReplies() ignore times, ids and key order only", () => {
  const a = { success: true, result: { when: "2026-12-01T08:00:00Z", id: "x", v: 1, uptime: 3 } };
  const b = { result: { v: 1, uptime: 9, id: "y", when: "2026-12-02T09:00:00.5Z" }, success: true };
  assert.deepEqual(compareReplies(a, b), { kind: "equivalent" });
  assert.deepEqual(compareReplies(a, a), { kind: "identical" });
  const c = compareReplies(a, { ...b, result: { ...b.result, v: 2 } });
  assert.equal(c.kind, "different");
  assert.deepEqual(normalise({ z: "3f2504e0-4f89-11d3-9a0c-0305e82c3301" }), { z: "<uuid>" });
});
