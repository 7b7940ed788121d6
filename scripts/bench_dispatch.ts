/**
 * @module
 * Per-stage cost of one request inside the daemon, without the socket: a real daemon (its worker
 * pool, logs and monitors) is started in this process and each stage of the request path is timed
 * over many iterations: decode + JSON parse, validate, the built-in or the worker round trip, the
 * reply's encoding, the statistics. The socket stages (accept, read, write, close) are what
 * scripts/bench_naive_deno.ts costs. Prints µs per call; timings are printed, never asserted.
 *
 *   deno run -A --v8-flags=--max-semi-space-size=1 scripts/bench_dispatch.ts [--n 20000]
 */

// deno-lint-ignore-file no-console -- a command-line report

import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.ts";
import { startDaemon } from "../src/daemon.ts";
import { dispatch } from "../src/protocol/dispatch.ts";
import { controlRequest } from "../src/server/connection.ts";
import { decodeUtf8, encodeReply } from "../src/wire/encoding.ts";
import { parseRequestJson } from "../src/wire/json_errors.ts";
import { validateRequest } from "../src/protocol/validate.ts";
import { whitelistOf } from "../src/daemon_context.ts";
import { runBuiltin } from "../src/builtins/mod.ts";
import { resultJson } from "../src/host/types.ts";
import { claimedPid } from "../src/wire/framing.ts";

const { values } = parseArgs({ args: Deno.args, options: { n: { type: "string" } } });
const N = Number(values.n ?? 20000);
const dir = await Deno.makeTempDir({ prefix: "cpan-bridge-dispatch-" });
const config = loadConfig(Deno.env.toObject(), {
  socketPath: `${dir}/b.sock`,
  logDir: dir,
});
const daemon = await startDaemon(config);
const d = daemon.context;
const enc = new TextEncoder();
const reqId = `${Math.floor(Date.now() / 1000)}_${Deno.pid}_12345`;
const requests: Record<string, Uint8Array> = {
  "test.ping": enc.encode(JSON.stringify({ module: "test", function: "ping", params: {} })),
  "system.health": enc.encode(
    JSON.stringify({ module: "system", function: "health", params: {} }),
  ),
  "datetime_helper.now": enc.encode(JSON.stringify({
    module: "datetime_helper",
    function: "now",
    params: {},
    request_id: reqId,
    timestamp: Math.floor(Date.now() / 1000),
    perl_caller: "main::run",
  })),
};

async function time(label: string, n: number, f: () => unknown): Promise<void> {
  for (let i = 0; i < Math.min(2000, n); i++) await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  const us = (performance.now() - t0) * 1000 / n;
  console.log(`${label.padEnd(48)} ${us.toFixed(2).padStart(8)} µs`);
}

const peer = { client: "bench" };
const wl = whitelistOf(d);
for (const [name, bytes] of Object.entries(requests)) {
  console.log(`\n${name} (${bytes.length} request bytes)`);
  const value = parseRequestJson(decodeUtf8(bytes)) as Record<string, unknown>;
  const deps = { config: d.config, whitelist: wl, security: d.security, peer };
  await time("controlRequest (second parse)", N, () => controlRequest(bytes));
  await time("claimedPid", N, () => claimedPid(bytes));
  await time("decode + JSON parse", N, () => parseRequestJson(decodeUtf8(bytes)));
  await time("validate", N, () => validateRequest(value, deps));
  const req = validateRequest(value, deps);
  if (req.module === "test" || req.module === "system") {
    await time("built-in", N, () => runBuiltin(d, req));
    const r = await runBuiltin(d, req);
    await time("result JSON", N, () => resultJson(r));
    const text = `{"success":true,"result":${resultJson(r)}}`;
    await time("encode reply (ASCII escape + UTF-8)", N, () => encodeReply(text, "repair"));
  } else {
    const call = { ...req, hasParams: true };
    await time(
      "worker round trip (host.call)",
      N,
      () => d.host.call(call, new AbortController().signal),
    );
  }
  await time("stats (perf.record)", N, () => d.perf.record(Date.now(), name, 0.0001, true));
  await time("dispatch() whole", N, () => dispatch(d, bytes, peer));
}
await daemon.stop("benchmark done");
await Deno.remove(dir, { recursive: true });
