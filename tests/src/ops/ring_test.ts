/**
 * Tests of `Ring` (the newest N entries, oldest first) and `keptText()` (the byte bound on a text
 * kept in a ring entry, as a copy).
 */

import assert from "node:assert/strict";
import { KEPT_TEXT_BYTES, keptText, Ring } from "../../../src/ops/ring.ts";

const bytes = (s: string) => new TextEncoder().encode(s).length;

Deno.test("Ring keeps the newest entries, oldest first, at every fill level", () => {
  const r = new Ring<number>(4);
  assert.deepEqual(r.last(), []);
  const pushed: number[] = [];
  for (let i = 0; i < 11; i++) {
    r.push(i);
    pushed.push(i);
    assert.equal(r.size, Math.min(pushed.length, 4));
    assert.deepEqual(r.last(), pushed.slice(-4), `after ${i + 1} pushes`);
    for (let n = 0; n <= 6; n++) {
      assert.deepEqual(r.last(n), pushed.slice(-4).slice(-n || 4).slice(0, n), `last(${n})`);
    }
  }
});

Deno.test("Ring refuses a capacity below one", () => {
  assert.throws(() => new Ring(0), RangeError);
  assert.throws(() => new Ring(1.5), RangeError);
});

Deno.test("keptText() leaves short text alone and cuts long text by UTF-8 bytes with a marker", () => {
  assert.equal(keptText("Function not allowed: m.f"), "Function not allowed: m.f");
  for (const unit of ["x", "é", "€", "😀"]) {
    const long = unit.repeat(61_440);
    const cut = keptText(long);
    assert.ok(bytes(cut) <= KEPT_TEXT_BYTES, `${unit}: ${bytes(cut)} bytes`);
    assert.ok(cut.endsWith(` … [${long.length} characters, cut to ${KEPT_TEXT_BYTES} bytes]`), cut);
    assert.ok(cut.startsWith(unit.repeat(10)));
    assert.ok(!cut.includes("\ufffd"), "a character was split");
  }
  assert.equal(bytes(keptText("y".repeat(1000), 100)) <= 100, true);
});
