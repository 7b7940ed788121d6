/**
 * Tests of the inline rule (`inline.ts`) and how `WorkerPool` applies it: small calls of the
 * listed functions run on the calling thread without starting a Worker, a call with a huge
 * argument still goes to a Worker, and an inline call answers exactly as a Worker would.
 */

import assert from "node:assert/strict";
import { INLINE_FUNCTIONS, INLINE_MAX_CHARS, paramsWithin } from "../../../src/host/inline.ts";
import { WorkerPool } from "../../../src/host/worker_pool.ts";
import { WorkerHost } from "../../../src/host/worker_host.ts";
import type { HelperHost } from "../../../src/host/types.ts";
import { WireError } from "../../../src/errors.ts";
import { helperEntry } from "../../../helpers/registry.ts";

const SETTINGS = { handleTtlMs: 0, helperTimeoutMs: 10_000, maxFileBytes: 1 << 20, debug: 0 };
const dec = new TextDecoder();

const now = (p: HelperHost, params: unknown) =>
  p.call(
    {
      module: "datetime_helper",
      function: "now",
      params,
      hasParams: true,
      requestId: "1764590000_4242_1",
    },
    new AbortController().signal,
  );

Deno.test("paramsWithin() accepts small params and stops early on large ones", () => {
  assert.equal(paramsWithin({}, INLINE_MAX_CHARS), true);
  assert.equal(paramsWithin([], INLINE_MAX_CHARS), true);
  assert.equal(paramsWithin(undefined, INLINE_MAX_CHARS), true);
  assert.equal(paramsWithin({ tz: "UTC", n: 3, flag: true }, INLINE_MAX_CHARS), true);
  assert.equal(paramsWithin({ s: "x".repeat(INLINE_MAX_CHARS) }, INLINE_MAX_CHARS), false);
  assert.equal(paramsWithin({ ["k".repeat(INLINE_MAX_CHARS)]: 1 }, INLINE_MAX_CHARS), false);
  // A long array of small values: refused once the budget is spent, not walked to its end.
  let visited = 0;
  const many = new Proxy(new Array(1_000_000).fill(0), {
    get(t, k, r) {
      if (typeof k === "string" && /^\d+$/.test(k)) visited++;
      return Reflect.get(t, k, r);
    },
  });
  assert.equal(paramsWithin(many, INLINE_MAX_CHARS), false);
  assert.ok(visited <= INLINE_MAX_CHARS, `visited ${visited} elements`);
  // Nested values count too.
  assert.equal(paramsWithin([[["x".repeat(INLINE_MAX_CHARS)]]], INLINE_MAX_CHARS), false);
});

Deno.test("INLINE_FUNCTIONS names only functions the registry serves", () => {
  for (const [module, fns] of INLINE_FUNCTIONS) {
    const entry = helperEntry(module);
    assert.ok(entry, `${module} is not in the registry`);
    for (const f of fns) assert.ok(entry.functions.includes(f), `${module}.${f}`);
  }
});

Deno.test({
  name: "WorkerPool.call() runs a small datetime_helper.now inline and a huge one in a worker",
  async fn() {
    const p = new WorkerPool(2, SETTINGS, () => {}, true, [], true);
    try {
      const r = JSON.parse(dec.decode(await now(p, {})));
      assert.equal(typeof r.result.epoch, "number", JSON.stringify(r));
      assert.equal(p.size, 0, "a small call started a worker");
      // The same function with a 1 MB argument goes to a worker (started for it), and the
      // socket thread keeps turning its event loop while that call is out.
      let turns = 0;
      const tick = setInterval(() => turns++, 0);
      try {
        await assert.rejects(
          now(p, ["x".repeat(1_000_000)]),
          (e) =>
            e instanceof WireError &&
            e.message ===
              "Error in datetime_helper.now: now() takes 0 positional arguments but 1 was given",
        );
      } finally {
        clearInterval(tick);
      }
      assert.equal(p.size, 1, "the huge call did not go to a worker");
      assert.ok(turns > 0, "the event loop did not turn while the huge call was out");
    } finally {
      await p.close();
    }
  },
});

Deno.test({
  name: "WorkerPool.call() answers an inline call with the same bytes and errors as a worker",
  async fn() {
    const inline = new WorkerPool(1, SETTINGS, () => {}, true, [], true);
    const worker = new WorkerHost(SETTINGS, () => {}, true); // never inline
    try {
      await worker.ready;
      const a = dec.decode(await now(inline, {}));
      const b = dec.decode(await now(worker, {}));
      // Same shape; the epoch may tick between the two calls.
      assert.equal(a.replace(/\d+/, "N"), b.replace(/\d+/, "N"));
      assert.match(a, /^\{"success":true,"result":\{"epoch":\d+\}\}$/);
      for (const bad of [{ bogus: 1 }, [1]]) {
        const ei = await now(inline, bad).then(() => undefined, (e) => e);
        const ew = await now(worker, bad).then(() => undefined, (e) => e);
        assert.ok(ei instanceof WireError && ew instanceof WireError);
        assert.equal(ei.message, ew.message);
        assert.equal(ei.errorType, ew.errorType);
        assert.equal(ei.stack?.split("\n")[0], ew.stack?.split("\n")[0]);
      }
      assert.equal(inline.size, 0);
    } finally {
      await inline.close();
      await worker.close();
    }
  },
});

Deno.test("INLINE_FUNCTIONS answer before any timer could fire (they get no timeout)", async () => {
  const p = new WorkerPool(1, SETTINGS, () => {}, true, [], true);
  try {
    for (const [module, fns] of INLINE_FUNCTIONS) {
      for (const f of fns) {
        const c = { module, function: f, params: {}, hasParams: true, requestId: "1_2_3" };
        const signal = new AbortController().signal;
        await p.call(c, signal).catch(() => {}); // loads the module
        let settled = false;
        p.call(c, signal).then(() => (settled = true), () => (settled = true));
        await new Promise((r) => setTimeout(r, 0));
        assert.equal(settled, true, `${module}.${f} waited for something`);
      }
    }
    assert.equal(p.size, 0);
  } finally {
    await p.close();
  }
});
