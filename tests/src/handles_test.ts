/**
 * Tests of handle ownership: a handle remembers the client PID that opened it (claimed in
 * `request_id`), other clients are refused with a clear error, and listings show a client only
 * its own handles. Through `HandleTable.viewFor()` and through a real helper (crypto) in a
 * `HelperRuntime`.
 */

import assert from "node:assert/strict";
import { HandleOwnerError, HandleTable } from "../../src/handles.ts";
import { InProcessHost } from "../../src/host/in_process.ts";
import { systemClock } from "../../src/clock.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { REGISTRY } from "../../helpers/registry.ts";

Deno.test("HandleTable.viewFor() refuses other PIDs and lists only the caller's handles", async () => {
  const t = new HandleTable<string>({ prefix: "t", idleTtlMs: 0 }, systemClock);
  const a = t.viewFor(4194000), b = t.viewFor(4194001), anon = t.viewFor(undefined);
  const ida = a.add("A");
  const idb = b.add("B");
  const shared = anon.add("S");
  assert.equal(a.get(ida), "A");
  assert.equal(t.ownerOf(ida), 4194000);
  assert.throws(() => b.get(ida), HandleOwnerError);
  assert.throws(
    () => b.has(ida),
    /^HandleOwnerError: Cannot use t handle t_\d+_[0-9a-f]{8}: it belongs to another client process \(PID 4194000\)/,
  );
  await assert.rejects(() => b.withLock(ida, () => 1), HandleOwnerError);
  await assert.rejects(() => b.delete(ida), HandleOwnerError);
  assert.throws(() => anon.get(ida), HandleOwnerError);
  assert.deepEqual(a.ids().sort(), [ida, shared].sort());
  assert.deepEqual(b.ids().sort(), [idb, shared].sort());
  // A handle opened without a PID stays usable by anyone; the janitor's table sees everything.
  assert.equal(b.get(shared), "S");
  assert.equal(t.ids().length, 3);
  assert.equal(await a.delete(ida), true);
  // A descendant of the opener (a forked child, a command it runs) may use its handles.
  const mine = t.viewFor(Deno.pid).add("P");
  const child = new Deno.Command("sleep", { args: ["5"] }).spawn();
  try {
    assert.equal(t.viewFor(child.pid).get(mine), "P");
  } finally {
    child.kill();
    await child.status;
  }
});

Deno.test("HelperRuntime handles: crypto.encrypt on another client's cipher_id is refused", async () => {
  const host = new InProcessHost(
    REGISTRY,
    { handleTtlMs: 0, helperTimeoutMs: 10_000, maxFileBytes: 1 << 20, debug: 0 },
    systemClock,
    () => {},
  );
  const call = async (pid: number, fn: string, params: unknown) =>
    JSON.parse(
      new TextDecoder().decode(
        await host.call(
          {
            module: "crypto",
            function: fn,
            params,
            hasParams: true,
            requestId: `1764590000_${pid}_7`,
          },
          new AbortController().signal,
        ),
      ),
    );
  try {
    const made = await call(4001, "new", { key: "k", cipher: "Blowfish" });
    const id = made.result?.cipher_id ?? made.cipher_id;
    assert.equal(typeof id, "string");
    const own = await call(4001, "encrypt", { cipher_id: id, plaintext: "x" });
    assert.notEqual(own.success, false, JSON.stringify(own));
    const stolen = await call(4002, "encrypt", { cipher_id: id, plaintext: "x" });
    assert.equal(stolen.success, false);
    assert.match(String(stolen.error), /belongs to another client process \(PID 4001\)/);
  } finally {
    await host.close();
  }
});

Deno.test("HandleTable.peek() and values() read without counting as use, a view only its own", async () => {
  const clock = new FakeClock();
  const t = new HandleTable<string>({ prefix: "t", idleTtlMs: 1000 }, clock);
  const a = t.viewFor(4194000), b = t.viewFor(4194001);
  const ida = a.add("A");
  const idb = b.add("B");
  const shared = t.viewFor(undefined).add("S");
  assert.deepEqual(t.values(), ["A", "B", "S"]);
  assert.deepEqual(a.values(), ["A", "S"]);
  assert.deepEqual(b.values(), ["B", "S"]);
  assert.equal(a.peek(ida), "A");
  assert.equal(a.peek("t_nope"), undefined);
  assert.equal(a.peek(42), undefined);
  assert.throws(() => b.peek(ida), HandleOwnerError);
  clock.advance(800);
  // peek and values leave the idle timer alone: both expire at 1000 ms; get renews idb.
  a.peek(ida);
  a.values();
  assert.equal(b.get(idb), "B");
  clock.advance(300);
  assert.deepEqual((await t.sweep()).sort(), [ida, shared].sort());
  assert.deepEqual(t.ids(), [idb]);
});
