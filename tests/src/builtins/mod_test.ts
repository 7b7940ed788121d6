/**
 * `test.ping`, `test.stats`, `test.health` through the ops shim (contract §13.9): like system.*,
 * they carry `success` and a copy under `result` (ping's copy without `input`), so a script that
 * checks `$r->{success}` and reads `$r->{result}{…}` after CPANBridge.pm unwrapped `result` works.
 * `test.health` just after start-up reports what is true: it waits (bounded) for the helpers.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config.ts";
import { startDaemon } from "../../../src/daemon.ts";
import { systemClock } from "../../../src/sdk/clock.ts";
import { InProcessHost } from "../../../src/host/in_process.ts";
import type { HelperHost } from "../../../src/host/types.ts";
import { REGISTRY } from "../../../helpers/registry.ts";
import { startTestDaemon } from "../../_support/daemon.ts";
import { waitFor } from "../../_support/wait.ts";
import { rawJson } from "../../_support/raw.ts";
import {
  pingResultJson,
  runBuiltin,
  runBuiltinJson,
  withShimCopy,
} from "../../../src/builtins/mod.ts";
import { whitelistOf } from "../../../src/daemon_context.ts";
import { resultJson } from "../../../src/host/types.ts";
import { dispatch } from "../../../src/protocol/dispatch.ts";
import { builtinSuccess, replyParts } from "../../../src/protocol/envelope.ts";
import { validateRequest } from "../../../src/protocol/validate.ts";
import {
  asciiEscapeJson,
  decodeUtf8,
  encodeReply,
  repairDoubleEncoding,
} from "../../../src/wire/encoding.ts";
import { parseRequestJson } from "../../../src/wire/json_errors.ts";
import { protocolContext } from "../protocol/_context.ts";

type Obj = Record<string, unknown>;

Deno.test({
  name: "runBuiltin() behaviour: test.ping, test.stats and test.health carry success and result",
  fn: async () => {
    await using d = await startTestDaemon();
    for (const f of ["health", "stats", "ping"]) {
      const r = await rawJson(d.socket, { module: "test", function: f, params: { a: 1 } });
      assert.equal(r.success, true);
      const res = r.result as Obj;
      assert.equal(res.success, true, f);
      const { success: _s, result: copy, ...rest } = res;
      if (f === "ping") {
        const { input, ...noInput } = rest;
        assert.deepEqual(input, { a: 1 });
        assert.deepEqual(copy, noInput);
        assert.ok(!("input" in (copy as Obj)));
      } else assert.deepEqual(copy, rest, f);
    }
    const h = (await rawJson(d.socket, { module: "test", function: "health" })).result as Obj;
    assert.ok(((h.result as Obj).loaded_modules as string[]).includes("datetime_helper"));
    // test.echo is the caller's data, never altered.
    const e = await rawJson(d.socket, { module: "test", function: "echo", params: { a: 1 } });
    assert.deepEqual(e, { success: true, result: { a: 1 } });
  },
});

Deno.test({
  name: "runBuiltin() behaviour: with CPAN_BRIDGE_OPS_SHIM=0 test.* results are the contract's",
  fn: async () => {
    await using d = await startTestDaemon({ CPAN_BRIDGE_OPS_SHIM: "0" });
    for (const f of ["health", "stats", "ping"]) {
      const res = (await rawJson(d.socket, { module: "test", function: f })).result as Obj;
      assert.ok(!("success" in res) && !("result" in res), f);
    }
  },
});

/** A host whose helpers finish loading only when `open()` is called. */
function gatedHost(
  log: (level: "debug" | "info" | "warn" | "error", m: string) => void,
): HelperHost & { open(): void } {
  const config = loadConfig({});
  const inner = new InProcessHost(
    REGISTRY,
    {
      handleTtlMs: config.handleTtl * 1000,
      helperTimeoutMs: config.helperTimeout * 1000,
      maxFileBytes: config.maxFileBytes,
      debug: 0,
    },
    systemClock,
    log,
    true,
  );
  let opened = false;
  let release!: () => void;
  const ready = new Promise<void>((r) => (release = r));
  return {
    ready,
    open: () => {
      opened = true;
      release();
    },
    state: () => opened ? inner.state() : "loading",
    modules: () => opened ? inner.modules() : [],
    functions: () => opened ? inner.functions() : new Map(),
    call: (c, s) => inner.call(c, s),
    sweep: () => inner.sweep(),
    cleanupStale: () => inner.cleanupStale(),
    handleCounts: () => inner.handleCounts(),
    close: () => inner.close(),
  };
}

/** A daemon whose helper host stays "loading" until `host.open()`; disposed with `await using`. */
async function gatedDaemon() {
  const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-health-" });
  const socket = `${dir}/bridge.sock`;
  let host: ReturnType<typeof gatedHost> | undefined;
  const starting = startDaemon(
    loadConfig({ CPAN_BRIDGE_SOCKET: socket, CPAN_BRIDGE_LOG_DIR: dir }),
    { env: {}, host: (log) => (host = gatedHost(log)) },
  );
  // startDaemon() may settle only once the host is ready: it is awaited after open().
  await waitFor(async () => (await Deno.stat(socket).catch(() => undefined))?.isSocket === true, {
    what: "the socket",
  });
  if (!host) throw new Error("the daemon did not build its helper host");
  const gated = host;
  return {
    socket,
    host: gated,
    async [Symbol.asyncDispose]() {
      gated.open();
      await (await starting).stop("test finished");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test({
  name:
    "runBuiltin() behaviour: test.health while helpers load waits for them instead of saying degraded",
  fn: async () => {
    await using g = await gatedDaemon();
    const { socket } = g;
    const asked = rawJson(socket, { module: "test", function: "health" });
    // The helpers finish loading while the question is pending: a ping sent after it is
    // answered at once, so by then the daemon has the health request in hand.
    assert.equal((await rawJson(socket, { module: "test", function: "ping" })).success, true);
    g.host.open();
    const h = (await asked).result as Obj;
    assert.equal(h.status, "healthy", JSON.stringify(h.status));
    assert.ok((h.loaded_modules as string[]).includes("datetime_helper"));
  },
});

Deno.test({
  name:
    "runBuiltin() behaviour: test.health says starting when helpers are still loading after the wait",
  fn: async () => {
    await using g = await gatedDaemon();
    const { socket } = g;
    const t0 = performance.now();
    const h = (await rawJson(socket, { module: "test", function: "health" })).result as Obj;
    const took = performance.now() - t0;
    assert.equal(h.status, "starting");
    assert.deepEqual(h.loaded_modules, []);
    assert.ok(took >= 4_500 && took < 10_000, `answered after ${took} ms`);
    // A ping is never held up by the loading helpers.
    const t1 = performance.now();
    assert.equal((await rawJson(socket, { module: "test", function: "ping" })).success, true);
    assert.ok(performance.now() - t1 < 1000);
  },
});

Deno.test("pingResultJson() behaviour: the same reply bytes as test.ping's object serialised whole", async () => {
  const enc = new TextEncoder();
  const params = [
    undefined,
    {},
    { a: 1 },
    { s: "caf\u00e9 \u2603 \ud83d\ude00", list: [1, 2.5, null, true, { k: "v" }] },
    ["positional", 3],
    { nested: { deep: { x: "\u00c3\u00a9" } } },
  ];
  for (const env of [{}, { CPAN_BRIDGE_OPS_SHIM: "0" }, { CPAN_BRIDGE_ENCODING: "exact" }]) {
    const c = protocolContext(env);
    try {
      c.d.stats.requestsProcessed = 41;
      c.d.stats.peakConnections = 7;
      c.clock.advance(12_345.678);
      for (const p of params) {
        const raw: Record<string, unknown> = { module: "test", function: "ping" };
        if (p !== undefined) raw.params = p;
        const bytes = enc.encode(JSON.stringify(raw));
        let value = parseRequestJson(decodeUtf8(bytes));
        if (c.d.config.encoding === "repair") value = repairDoubleEncoding(value);
        const req = validateRequest(
          value as Record<string, unknown>,
          {
            config: c.d.config,
            whitelist: whitelistOf(c.d),
            security: c.d.security,
            peer: { client: "t" },
          },
        );
        const whole = builtinSuccess(await runBuiltin(c.d, req));
        const json = resultJson(await runBuiltin(c.d, req));
        assert.equal(pingResultJson(c.d, req), json);
        assert.equal(pingResultJson(c.d, req, true), asciiEscapeJson(json));
        const reply = await dispatch(c.d, bytes, { client: "t" });
        const mode = c.d.config.encoding;
        assert.deepEqual(replyParts(reply, mode), [encodeReply(whole, mode)], JSON.stringify(p));
        c.d.stats.requestsProcessed--; // dispatch counted it: the next case sees the same counters
      }
    } finally {
      await c.close();
    }
  }
});

Deno.test("withShimCopy() behaviour: the text of the object form {…r, success, result: {…r}}", () => {
  for (const r of [{}, { a: 1 }, { a: [1, { b: "é\u2028" }], c: null, d: "x,}" }]) {
    assert.equal(
      withShimCopy(JSON.stringify(r)),
      JSON.stringify({ ...r, success: true, result: { ...r } }),
    );
  }
});

Deno.test("runBuiltinJson() behaviour: every system.* result is the text of resultJson(runBuiltin()), shim on and off", async () => {
  for (const env of [{}, { CPAN_BRIDGE_OPS_SHIM: "0" }]) {
    const c = protocolContext(env);
    try {
      c.d.stats.requestsProcessed = 3;
      c.d.perf.record(c.clock.now(), "test.ping", 0.002, true);
      c.d.perf.record(c.clock.now(), "xml_helper.parse", 0.004, false, "bad XML");
      const request = (fn: string) =>
        validateRequest({ module: "system", function: fn, params: {} }, {
          config: c.d.config,
          whitelist: whitelistOf(c.d),
          security: c.d.security,
          peer: { client: "t" },
        });
      const fns = ["info", "health", "performance", "connections", "metrics", "stats"];
      for (const fn of [...fns, "validation_stats", "cleanup"]) {
        const req = request(fn);
        assert.equal(
          await runBuiltinJson(c.d, req),
          resultJson(await runBuiltin(c.d, req)),
          `${fn} ${JSON.stringify(env)}`,
        );
      }
      await assert.rejects(runBuiltinJson(c.d, { ...request("info"), function: "nope" }), /nope/);
    } finally {
      await c.close();
    }
  }
});
