/**
 * Hostile mix: the daemon's RSS while, for a fixed time, it serves good calls and, beside them,
 * clients that open helper handles and never close them, requests whose fields are 60 KiB of
 * nonsense (long validation errors, kept in the error and event rings), requests over the size cap
 * and clients that trickle their bytes until the read timeout cuts them off. Prints RSS every
 * `--sample` seconds and, at the end, the plateau (the highest RSS over the second half of the run).
 * Not part of the test suite.
 *
 *   deno run -A scripts/bench_hostile.ts [--minutes 5] [--sample 30] [--handles-per-s 2]
 *     [--errors-per-s 20] [--oversized-every 10] [--slow-clients 8] [--handle-ttl SECONDS]
 *     [--mix good,handles,invalid,oversized,slow]   (a subset, to see which part costs memory)
 *
 * The daemon runs with its default settings (CPAN_BRIDGE_BIN=dist/cpan-bridge for the single
 * binary, else `deno run main.ts`), except CPAN_BRIDGE_HANDLE_TTL when `--handle-ttl` is given.
 */

// deno-lint-ignore-file no-console -- a command-line report

import { parseArgs } from "node:util";
import { rawCall } from "../tests/_support/raw.ts";
import { startBenchDaemon } from "./bench/bench_daemon.ts";
import { HOSTILE_XML as XML } from "./bench/hostile_xml.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "5" },
    sample: { type: "string", default: "30" },
    "handles-per-s": { type: "string", default: "2" },
    "errors-per-s": { type: "string", default: "20" },
    "oversized-every": { type: "string", default: "10" },
    "slow-clients": { type: "string", default: "8" },
    "handle-ttl": { type: "string" },
    mix: { type: "string", default: "good,handles,invalid,oversized,slow" },
  },
});
const runMs = Number(values.minutes) * 60_000;
const sampleMs = Number(values.sample) * 1000;
const handleGapMs = 1000 / Number(values["handles-per-s"]);
const errorGapMs = 1000 / Number(values["errors-per-s"]);
const oversizedGapMs = Number(values["oversized-every"]) * 1000;
const mix = new Set(values.mix.split(","));
const slowClients = mix.has("slow") ? Number(values["slow-clients"]) : 0;

const bd = await startBenchDaemon(
  "cpan-bridge-hostile-",
  values["handle-ttl"] ? { CPAN_BRIDGE_HANDLE_TTL: values["handle-ttl"] } : {},
);
const { sock } = bd;
const rssMb = () => bd.rssMb();

const counts = {
  good: 0,
  goodFailed: 0,
  handles: 0,
  handlesFailed: 0,
  invalid: 0,
  oversized: 0,
  slowCut: 0,
};
const pings: number[] = [];
const end = Date.now() + runMs;
const running = () => Date.now() < end;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(req: unknown, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await rawCall(sock, JSON.stringify(req), { timeoutMs }));
  } catch (err) {
    return { success: false, error: String(err) };
  }
}

/** Good calls, as a batch job makes them: ping, a helper call, the health probe, an echo. */
async function goodLoop(): Promise<void> {
  const reqs = [
    { module: "test", function: "ping", params: {} },
    { module: "datetime_helper", function: "now", params: {} },
    { module: "system", function: "health", params: {} },
    { module: "test", function: "echo", params: { rows: [1, "two", { three: 3 }] } },
  ];
  for (let i = 0; running(); i++) {
    const req = reqs[i % reqs.length];
    const t0 = performance.now();
    const r = await call(req);
    if (i % reqs.length === 0) pings.push(performance.now() - t0);
    if (r.success === true) counts.good++;
    else counts.goodFailed++;
  }
}

/** Opens one helper handle after another and never closes them. */
async function handleLoop(): Promise<void> {
  const open: Array<() => Promise<boolean>> = [
    async () =>
      (await call({ module: "xpath", function: "load_xml_string", params: { xml_string: XML } }))
        .success === true,
    async () => {
      const p = await call({ module: "xml_dom_helper", function: "create_parser", params: {} });
      const id = (p.result as Record<string, unknown> | undefined)?.parser_id;
      const d = await call({
        module: "xml_dom_helper",
        function: "parse_string",
        params: { parser_id: id, xml_string: XML },
      });
      return p.success === true && d.success === true;
    },
    async () =>
      (await call({
        module: "database",
        function: "connect",
        params: { dsn: "dbi:SQLite:dbname=:memory:", username: "", password: "" },
      })).success === true,
    async () =>
      (await call({ module: "crypto", function: "new", params: { key: "hostile-mix" } }))
        .success === true,
  ];
  for (let i = 0; running(); i++) {
    const ok = await open[i % open.length]!();
    if (ok) counts.handles++;
    else counts.handlesFailed++;
    await pause(handleGapMs);
  }
}

const junk = (n: number) => "x!".repeat(n / 2);

/** Requests with one 60 KiB field that fails validation, in turn. */
async function invalidLoop(): Promise<void> {
  const bodies = [
    { module: junk(61_440), function: "ping", params: {} },
    { module: "test", function: junk(61_440), params: {} },
    { module: "test", function: "ping", params: junk(61_440) },
    { module: `no_such_${"m".repeat(61_440)}`, function: "f", params: {} },
    { module: "datetime_helper", function: "now", params: {}, request_id: { id: junk(61_440) } },
  ];
  for (let i = 0; running(); i++) {
    await call(bodies[i % bodies.length]);
    counts.invalid++;
    await pause(errorGapMs);
  }
}

/** One request of 10 MiB + 1 byte (the default cap) every so often. */
async function oversizedLoop(): Promise<void> {
  const body = new TextEncoder().encode(
    `{"module":"test","function":"echo","params":{"s":"${"y".repeat(10 * 1024 * 1024)}"}}`,
  );
  while (running()) {
    await rawCall(sock, body, { timeoutMs: 60_000 }).catch(() => "");
    counts.oversized++;
    await pause(oversizedGapMs);
  }
}

/** A client that sends a byte a second and never finishes, until the daemon cuts it off. */
async function slowLoop(): Promise<void> {
  const bytes = new TextEncoder().encode('{"module":"test","function":"ping","params":{"pad":"');
  while (running()) {
    let conn: Deno.UnixConn | undefined;
    try {
      conn = await Deno.connect({ transport: "unix", path: sock });
      for (let i = 0; running(); i++) {
        await conn.write(bytes.subarray(i % bytes.length, i % bytes.length + 1));
        await pause(1000);
      }
    } catch {
      counts.slowCut++; // cut off by the daemon (read timeout or request deadline)
    } finally {
      try {
        conn?.close();
      } catch { /* closed */ }
    }
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0 : 0;
};

await pause(5000);
const idle = rssMb();
console.log(
  `# Hostile mix (${[...mix].join(", ")}): ${values.minutes} min; handles ${
    values["handles-per-s"]
  }/s never closed` +
    `${values["handle-ttl"] ? ` (handle TTL ${values["handle-ttl"]} s)` : " (default TTL)"}, ` +
    `60 KiB validation errors ${values["errors-per-s"]}/s, a 10 MiB+1 request every ` +
    `${values["oversized-every"]} s, ${slowClients} slow clients, 4 good-call loops\n`,
);
console.log(
  "| min | RSS MB | good (failed) | handles (failed) | invalid | oversized | slow cut | ping p50/p99 ms |",
);
console.log("|---|---|---|---|---|---|---|---|");
console.log(`| 0 (idle) | ${idle.toFixed(1)} | | | | | | |`);

const loops = [
  ...Array.from({ length: mix.has("good") ? 4 : 0 }, goodLoop),
  ...(mix.has("handles") ? [handleLoop()] : []),
  ...(mix.has("invalid") ? [invalidLoop()] : []),
  ...(mix.has("oversized") ? [oversizedLoop()] : []),
  ...Array.from({ length: slowClients }, slowLoop),
];
const samples: number[] = [];
const t0 = Date.now();
while (running()) {
  await pause(Math.min(sampleMs, Math.max(0, end - Date.now())));
  const rss = rssMb();
  samples.push(rss);
  const c = counts;
  console.log(
    `| ${((Date.now() - t0) / 60_000).toFixed(1)} | ${
      rss.toFixed(1)
    } | ${c.good} (${c.goodFailed}) | ${c.handles} (${c.handlesFailed}) | ${c.invalid} | ${c.oversized} | ${c.slowCut} | ${
      pct(pings, 0.5).toFixed(2)
    }/${pct(pings, 0.99).toFixed(2)} |`,
  );
  pings.length = 0;
}
await Promise.all(loops);
const half = samples.slice(Math.floor(samples.length / 2));
console.log(
  `\nIdle ${idle.toFixed(1)} MB; plateau (highest RSS over the second half) ${
    Math.max(...half).toFixed(1)
  } MB; peak RSS ${bd.peakMb().toFixed(1)} MB (VmHWM)`,
);
await bd.stop();
