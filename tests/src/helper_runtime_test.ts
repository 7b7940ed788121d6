import assert from "node:assert/strict";
import { systemClock } from "../../src/sdk/clock.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { HelperRuntime } from "../../src/helper_runtime.ts";
import { defineHelper, fn, type HelperDefinition, wrapped } from "../../helpers/types.ts";

const settings = { handleTtlMs: 1000, helperTimeoutMs: 1000, maxFileBytes: 1 << 20, debug: 0 };

Deno.test("HelperRuntime loads a lazy helper once, on its first call", async () => {
  let loads = 0;
  const def = defineHelper({
    name: "lazy_one",
    replaces: "test",
    functions: { hello: fn(["who"], (a) => wrapped(`hi ${a.who}`)) },
  });
  const rt = new HelperRuntime(
    [{
      name: "lazy_one",
      aliases: ["lazy_alias"],
      functions: ["hello"],
      load: () => {
        loads++;
        return Promise.resolve(def);
      },
    }],
    settings,
    systemClock,
    () => {},
  );
  assert.deepEqual(rt.moduleNames, ["lazy_one", "lazy_alias"]);
  assert.equal(loads, 0, "nothing loaded at start");
  const [a, b] = await Promise.all([
    rt.call("lazy_one", "hello", { who: "x" }, true, { requestId: "r" }),
    rt.call("lazy_alias", "hello", ["y"], true, { requestId: "r" }),
  ]);
  assert.deepEqual(a, { success: true, result: "hi x" });
  assert.deepEqual(b, { success: true, result: "hi y" });
  assert.equal(loads, 1);
  await assert.rejects(
    rt.call("lazy_one", "nope", {}, true, { requestId: "r" }),
    /Function 'nope' not found in module 'lazy_one'/,
  );
  assert.equal(loads, 1);
});

Deno.test("HelperRuntime reports a helper that fails to load as the call's error, and retries later", async () => {
  let fail = true;
  const def: HelperDefinition = defineHelper({
    name: "flaky",
    replaces: "t",
    functions: { f: fn([], () => 1) },
  });
  const rt = new HelperRuntime(
    [{
      name: "flaky",
      aliases: [],
      functions: ["f"],
      load: () => (fail ? Promise.reject(new Error("boom")) : Promise.resolve(def)),
    }],
    settings,
    systemClock,
    () => {},
  );
  await assert.rejects(
    rt.call("flaky", "f", {}, true, { requestId: "r" }),
    /Error in flaky\.f: cannot load the helper module: boom/,
  );
  fail = false;
  assert.equal(await rt.call("flaky", "f", {}, true, { requestId: "r" }), 1);
});

Deno.test("bindParams() binds by name and position with Python's error texts", async () => {
  const rt = new HelperRuntime(
    [defineHelper({
      name: "b",
      replaces: "t",
      functions: { f: fn(["x", "y"], (a) => a, { required: ["x"] }) },
    })],
    settings,
    systemClock,
    () => {},
  );
  const call = (p: unknown, present = true) => rt.call("b", "f", p, present, { requestId: "r" });
  assert.deepEqual(await call([1, 2]), { x: 1, y: 2 });
  assert.deepEqual(await call({ x: 1 }), { x: 1 });
  assert.deepEqual(await call("solo"), { x: "solo" });
  await assert.rejects(
    call({ x: 1, z: 2 }),
    /Error in b\.f: f\(\) got an unexpected keyword argument 'z'/,
  );
  await assert.rejects(call([1, 2, 3]), /f\(\) takes 2 positional arguments but 3 were given/);
  await assert.rejects(call({}, true), /f\(\) missing 1 required argument: 'x'/);
  await assert.rejects(call(undefined, false), /missing 1 required argument/);
});

Deno.test("HelperRuntime.makeContext() gives helpers the runtime's clock", async () => {
  const clock = new FakeClock(1_234_000);
  const rt = new HelperRuntime(
    [defineHelper({
      name: "c",
      replaces: "t",
      functions: { t: fn([], (_a, ctx) => ctx.clock.now()) },
    })],
    settings,
    clock,
    () => {},
  );
  assert.equal(await rt.call("c", "t", undefined, false, { requestId: "r" }), 1_234_000);
  clock.advance(5);
  assert.equal(await rt.call("c", "t", undefined, false, { requestId: "r" }), 1_234_005);
});

Deno.test("HelperRuntime.call() answers a registry name it does not serve as not implemented", async () => {
  const rt = new HelperRuntime(
    [defineHelper({ name: "datetime_helper", replaces: "t", functions: { now: fn([], () => 1) } })],
    settings,
    systemClock,
    () => {},
  );
  // datetime_helper.format_date: whitelisted by the Python daemon, not built (registry notBuilt).
  await assert.rejects(
    rt.call("datetime_helper", "format_date", {}, true, { requestId: "r" }),
    /Function 'datetime_helper\.format_date' is not implemented in this version of cpan-bridge/,
  );
  await assert.rejects(
    rt.call("datetime_helper", "bogus", {}, true, { requestId: "r" }),
    /Function 'bogus' not found in module 'datetime_helper'\. Available functions: \['now'\]/,
  );
  // A registry module this runtime was not given; a name nobody knows (no prototype keys).
  await assert.rejects(
    rt.call("crypto", "hash", {}, true, { requestId: "r" }),
    /Function 'crypto\.hash' is not implemented in this version/,
  );
  for (const m of ["nope", "constructor", "toString"]) {
    await assert.rejects(
      rt.call(m, "f", {}, true, { requestId: "r" }),
      /not available\. Available modules: \['datetime_helper'\]/,
      m,
    );
  }
});

Deno.test("HelperRuntime.sweep() logs each closed handle with its reason: idle past the TTL, or its owner exited", async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const lines: string[] = [];
  const def = defineHelper({
    name: "holder",
    replaces: "test",
    functions: {
      open: fn([], (_a, ctx) => wrapped(ctx.handles<string>("things", { prefix: "th" }).add("x"))),
    },
  });
  const rt = new HelperRuntime(
    [{ name: "holder", aliases: [], functions: ["open"], load: () => Promise.resolve(def) }],
    settings,
    clock,
    (_level, m) => lines.push(m),
  );
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const idle = (await rt.call("holder", "open", {}, true, { requestId: "r" })) as {
      result: string;
    };
    const owned = (await rt.call("holder", "open", {}, true, {
      requestId: `1700000000_${child.pid}_1`,
    })) as { result: string };
    child.kill("SIGKILL");
    await child.status;
    clock.advance(1500);
    assert.equal(await rt.sweep(), 2);
    assert.deepEqual(
      lines.filter((l) => l.startsWith("Closed")).sort(),
      [
        `Closed handle ${owned.result} (holder.things): its owner, PID ${child.pid}, has exited`,
        `Closed idle handle ${idle.result} (holder.things): unused for longer than 1 s`,
      ].sort(),
    );
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
  }
});
