/**
 * Tests of handle ownership: a handle remembers the client PID that opened it (claimed in
 * `request_id`), other clients are refused with a clear error, and listings show a client only
 * its own handles. Through `HandleTable.viewFor()` and through a real helper (crypto) in a
 * `HelperRuntime`.
 */

import assert from "node:assert/strict";
import { HandleLimitError, HandleOwnerError, HandleTable } from "../../../src/sdk/handles.ts";
import { processStartTime } from "../../../src/sdk/processes.ts";
import { InProcessHost } from "../../../src/host/in_process.ts";
import { systemClock } from "../../../src/sdk/clock.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { REGISTRY } from "../../../helpers/registry.ts";

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

Deno.test("HandleTable.add() behaviour: ids are <prefix>_<epoch s>_<8 hex> from the table's clock", () => {
  const clock = new FakeClock(1_764_590_000_123);
  const events: string[] = [];
  const t = new HandleTable<number>({
    prefix: "db",
    idleTtlMs: 0,
    onChange: (e, id) => events.push(`${e} ${id}`),
  }, clock);
  const id = t.add(1);
  assert.match(id, /^db_1764590000_[0-9a-f]{8}$/);
  assert.equal(t.add(2, "db_fixed"), "db_fixed");
  assert.notEqual(t.add(3), id, "random tails differ");
  assert.equal(t.size, 3);
  assert.deepEqual(events.slice(0, 2), [`add ${id}`, "add db_fixed"]);
  assert.equal(t.get("db_unknown"), undefined);
  assert.equal(t.get(7), undefined);
  assert.equal(t.has(7), false);
});

Deno.test("HandleTable.withLock() behaviour: calls on one id run one at a time, in order", async () => {
  const t = new HandleTable<string[]>({ prefix: "t", idleTtlMs: 0 }, new FakeClock());
  const id = t.add([]);
  const other = t.add([]);
  const gates: Array<() => void> = [];
  const step = (name: string) => (log: string[]) =>
    new Promise<string>((resolve) => {
      log.push(`start ${name}`);
      gates.push(() => {
        log.push(`end ${name}`);
        resolve(name);
      });
    });
  const first = t.withLock(id, step("a"));
  const second = t.withLock(id, step("b"));
  const elsewhere = t.withLock(other, step("x"));
  // Let every lock that can start, start: a and x (different ids) do, b waits for a.
  for (let i = 0; i < 10; i++) await Promise.resolve();
  assert.deepEqual(t.peek(id), ["start a"]);
  assert.deepEqual(t.peek(other), ["start x"]);
  gates.shift()?.(); // ends a
  assert.equal(await first, "a");
  for (let i = 0; i < 10; i++) await Promise.resolve();
  assert.deepEqual(t.peek(id), ["start a", "end a", "start b"]);
  gates.shift()?.(); // ends x
  gates.shift()?.(); // ends b
  assert.deepEqual(await Promise.all([second, elsewhere]), ["b", "x"]);
  assert.deepEqual(t.peek(id), ["start a", "end a", "start b", "end b"]);
});

Deno.test("HandleTable.withLock() behaviour: a failed call releases the lock; unknown ids are refused", async () => {
  const t = new HandleTable<number>({ prefix: "ftp", idleTtlMs: 0 }, new FakeClock());
  const id = t.add(41);
  await assert.rejects(
    t.withLock(id, () => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(await t.withLock(id, (v) => v + 1), 42);
  await assert.rejects(
    t.withLock("ftp_gone", () => 0),
    (e: unknown) =>
      e instanceof RangeError && e.message === "Cannot use ftp handle ftp_gone: unknown or closed",
  );
});

Deno.test("HandleTable.sweep() behaviour: closes handles idle past the TTL, never one in use", async () => {
  const clock = new FakeClock();
  const disposed: string[] = [];
  const t = new HandleTable<string>({
    prefix: "t",
    idleTtlMs: 1000,
    dispose: (v, reason) => {
      disposed.push(`${v}: ${reason}`);
    },
  }, clock);
  const idle = t.add("idle");
  const used = t.add("used");
  const busy = t.add("busy");
  let finish!: () => void;
  const running = t.withLock(busy, () => new Promise<void>((r) => (finish = r)));
  clock.advance(600);
  t.get(used);
  clock.advance(600);
  assert.deepEqual(await t.sweep(), [idle], "idle 1200 ms: swept; used 600 ms ago and busy: kept");
  assert.deepEqual(disposed, ["idle: idle 1 s"]);
  assert.equal(t.evicted, 1);
  assert.deepEqual(t.ids(), [used, busy]);
  // Exactly at the TTL a handle stays; past it, it goes.
  clock.advance(400);
  assert.deepEqual(await t.sweep(), []);
  clock.advance(1);
  assert.deepEqual(await t.sweep(), [used]);
  // The busy handle's idle time starts when its call ends.
  clock.advance(5000);
  assert.deepEqual(await t.sweep(), []);
  finish();
  await running;
  clock.advance(1001);
  assert.deepEqual(await t.sweep(), [busy]);
  assert.equal(t.evicted, 3);
  assert.equal(t.size, 0);
});

Deno.test("HandleTable.sweep() behaviour: a TTL of 0 keeps handles; a failing dispose does not stop it", async () => {
  const clock = new FakeClock();
  const keep = new HandleTable<string>({ prefix: "k", idleTtlMs: 0 }, clock);
  keep.add("forever");
  clock.advance(365 * 86_400_000);
  assert.deepEqual(await keep.sweep(), []);
  assert.equal(keep.size, 1);
  const t = new HandleTable<string>({
    prefix: "t",
    idleTtlMs: 10,
    dispose: (v) => {
      if (v === "bad") throw new Error("close failed");
    },
  }, clock);
  const bad = t.add("bad");
  const good = t.add("good");
  clock.advance(11);
  assert.deepEqual(await t.sweep(), [bad, good]);
  assert.equal(t.size, 0);
});

Deno.test("HandleTable.delete() and closeAll() behaviour: dispose with the reason, tell onChange", async () => {
  const disposed: string[] = [];
  const events: string[] = [];
  const t = new HandleTable<string>({
    prefix: "t",
    idleTtlMs: 0,
    dispose: (v, reason) => {
      disposed.push(`${v}: ${reason}`);
    },
    onChange: (e, id) => events.push(`${e} ${id}`),
  }, new FakeClock());
  const a = t.add("a", "t_a");
  t.add("b", "t_b");
  t.add("c", "t_c");
  assert.equal(await t.delete(a), true);
  assert.equal(await t.delete(a), false, "already gone");
  await t.closeAll();
  assert.deepEqual(disposed, ["a: closed", "b: daemon shutdown", "c: daemon shutdown"]);
  assert.deepEqual(events, [
    "add t_a",
    "add t_b",
    "add t_c",
    "delete t_a",
    "delete t_b",
    "delete t_c",
  ]);
  assert.equal(t.size, 0);
  assert.equal(t.evicted, 0, "only the idle sweep counts as eviction");
});

Deno.test("HandleTable.sweepExited() behaviour: closes the handles of an owner that exited, keeps the living and the unseen", async () => {
  const disposed: [string, string][] = [];
  const t = new HandleTable<string>({
    prefix: "h",
    idleTtlMs: 3_600_000,
    dispose: (v, reason) => void disposed.push([v, reason]),
  }, systemClock);
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const other = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const mine = t.add("child's", undefined, child.pid);
    const busy = t.add("child's, busy", undefined, child.pid);
    const living = t.add("other's", undefined, other.pid);
    const unowned = t.add("anyone's");
    // A PID the daemon never saw (e.g. a client in another PID namespace) is never taken for gone.
    const unseen = t.add("unseen", undefined, 2 ** 22 + 12345);
    assert.equal(processStartTime(2 ** 22 + 12345), undefined);
    assert.match(processStartTime(child.pid) ?? "", /^\d+$/);

    assert.deepEqual(await t.sweepExited(), []);
    child.kill("SIGKILL");
    await child.status;
    let release!: () => void;
    const held = t.withLock(busy, () => new Promise<void>((r) => (release = r)));
    assert.deepEqual(await t.sweepExited(), [{ id: mine, pid: child.pid }]);
    assert.deepEqual(disposed, [["child's", `owner PID ${child.pid} exited`]]);
    assert.ok(t.has(busy) && t.has(living) && t.has(unowned) && t.has(unseen));
    release();
    await held;
    assert.deepEqual(await t.sweepExited(), [{ id: busy, pid: child.pid }]);
    assert.equal(t.evicted, 2);
    assert.deepEqual(t.ids(), [living, unowned, unseen]);
  } finally {
    for (const p of [child, other]) {
      try {
        p.kill("SIGKILL");
      } catch { /* exited */ }
      await p.status;
    }
  }
});

Deno.test("HandleTable.add() behaviour: perOwnerLimit bounds one owner's open handles, not others'", async () => {
  const t = new HandleTable<string>({ prefix: "doc", idleTtlMs: 0, perOwnerLimit: 2 }, systemClock);
  const a1 = t.add("a1", undefined, 4001);
  t.add("a2", undefined, 4001);
  assert.throws(
    () => t.add("a3", undefined, 4001),
    (e) =>
      e instanceof HandleLimitError &&
      e.message ===
        "Too many open doc handles for client process PID 4001: 2 are open, the most one process may hold (CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT); close the ones it no longer needs",
  );
  assert.equal(t.size, 2, "the refused handle was not stored");
  t.add("b1", undefined, 4002);
  t.add("b2", undefined, 4002);
  t.add("anyone 1");
  // Closing one frees its slot; replacing an id keeps the count.
  await t.delete(a1);
  const a3 = t.add("a3", undefined, 4001);
  t.add("a3 again", a3, 4001);
  assert.throws(() => t.add("a4", undefined, 4001), HandleLimitError);
  await t.closeAll();
  t.add("after close", undefined, 4001);
  t.add("after close 2", undefined, 4001);
  assert.throws(() => t.add("after close 3", undefined, 4001), HandleLimitError);
});

Deno.test("HandleTable.add() behaviour: handles opened without an owner count together against perOwnerLimit", async () => {
  const t = new HandleTable<string>({ prefix: "doc", idleTtlMs: 0, perOwnerLimit: 2 }, systemClock);
  const u1 = t.add("u1");
  const u2 = t.add("u2");
  assert.throws(
    () => t.add("u3"),
    (e) =>
      e instanceof HandleLimitError &&
      e.message ===
        "Too many open doc handles for requests without a client PID (request_id): 2 are open, the most they may hold together (CPAN_BRIDGE_MAX_HANDLES_PER_CLIENT); close the ones it no longer needs",
  );
  t.add("owned", undefined, 4001); // an owner has its own count
  t.add("u2 again", u2); // replacing an unowned id keeps the count
  await t.delete(u1);
  t.add("u3");
  assert.throws(() => t.add("u4"), HandleLimitError);
  assert.equal(t.size, 3);
  // Without a limit, nothing is counted or refused.
  const free = new HandleTable<string>({ prefix: "doc", idleTtlMs: 0 }, systemClock);
  for (let i = 0; i < 5; i++) free.add(`u${i}`);
  assert.equal(free.size, 5);
  await t.closeAll();
  await free.closeAll();
});

Deno.test("HandleTable.sweepExited() behaviour: a table ownedByHandle leaves an exited owner's handles to their parent", async () => {
  const t = new HandleTable<string>(
    { prefix: "node", idleTtlMs: 0, ownedByHandle: true },
    systemClock,
  );
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const id = t.add("a node", undefined, child.pid);
  child.kill("SIGKILL");
  await child.status;
  assert.deepEqual(await t.sweepExited(), []);
  assert.ok(t.has(id));
});
